'use strict';
/*
 * make bench's peer: what a team writes for nginx auth_request instead of
 * tokend. node's http module, node's crypto and one ioredis client per
 * process, doing the work of tokend's cache-off verify on the same tokens:
 *   - the token from the X-Original-URI `token=` query parameter;
 *   - tokend's token string (td_pub_/td_prv_ + base64url of 53 bytes:
 *     version 1, key id u32, space u64, id u64, secret 16, tag 16), the tag
 *     being the first 16 bytes of HMAC-SHA256(tag key, prefix || first 37
 *     bytes), the tag key HMAC-SHA256(keyring key, "tokend/v1/token-tag")
 *     as src/core/sign.c derives it, from the same keyring file as tokend;
 *   - one HGETALL of the record, {s:<space>}:t:<id> (the key floor.c reads);
 *   - 200 when the tag is right and the record exists, else 401.
 * Per request: one HMAC and one HGETALL, like floor.c's "hmac" responder.
 * It checks less than tokend (no rules, no secret match against the record,
 * no revocation state beyond the record's existence): a lower bound for such
 * a verifier, not a replacement.
 *
 * PEER_SOCKET   Unix socket the HTTP server listens on (nginx proxy_pass)
 * PEER_PROCS    processes (cluster workers), default 2
 * REDIS_SOCKET  Redis's Unix socket
 * KEYRING_FILE  tokend's keyring: lines "<key id> <base64 32-byte key>"
 */
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const Redis = require('ioredis');

const SOCKET = process.env.PEER_SOCKET;
const PROCS = Math.max(1, parseInt(process.env.PEER_PROCS || '2', 10));

if (cluster.isPrimary) {
	try { fs.unlinkSync(SOCKET); } catch (e) { /* none yet */ }
	for (let i = 0; i < PROCS; i++)
		cluster.fork();
	cluster.on('exit', () => process.exit(1));	// a dead worker fails the bench
	const stop = () => { for (const id in cluster.workers) cluster.workers[id].kill(); process.exit(0); };
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	return;
}

const keys = new Map();	// key id -> tag key
for (const line of fs.readFileSync(process.env.KEYRING_FILE, 'utf8').split('\n')) {
	const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
	if (m)
		keys.set(Number(m[1]), crypto.createHmac('sha256', Buffer.from(m[2], 'base64'))
			.update('tokend/v1/token-tag').digest());
}
const PREFIXES = new Set(['td_pub_', 'td_prv_', 'td_ast_', 'td_rel_', 'td_thm_']);
const redis = new Redis({ path: process.env.REDIS_SOCKET, enableOfflineQueue: true });

/* the token's record key, or null when the string is not a token of ours */
function recordKey(token) {
	if (token.length !== 78 || !PREFIXES.has(token.slice(0, 7)))
		return null;
	const body = token.slice(7);
	const p = Buffer.from(body, 'base64url');
	if (p.length !== 53 || p[0] !== 1 || p.toString('base64url') !== body)
		return null;
	const key = keys.get(p.readUInt32BE(1));
	if (key === undefined)
		return null;
	const tag = crypto.createHmac('sha256', key).update(token.slice(0, 7))
		.update(p.subarray(0, 37)).digest().subarray(0, 16);
	if (!crypto.timingSafeEqual(tag, p.subarray(37)))
		return null;
	const space = p.readBigUInt64BE(5), id = p.readBigUInt64BE(13);
	return id > 0n ? `{s:${space}}:t:${id}` : null;
}

function tokenOf(uri) {
	const q = uri.indexOf('?');
	return q < 0 ? null : new URLSearchParams(uri.slice(q + 1)).get('token');
}

const OK = '{"valid":1}\n', NO = '{"valid":0}\n';
function answer(res, ok) {
	const body = ok ? OK : NO;
	res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json; charset=utf-8',
					 'Content-Length': body.length });
	res.end(body);
}

const server = http.createServer((req, res) => {
	const token = tokenOf(req.headers['x-original-uri'] || '');
	const key = token && recordKey(token);
	if (!key)
		return answer(res, false);
	redis.hgetall(key).then(
		(rec) => answer(res, Object.keys(rec).length > 0),
		() => { res.writeHead(503); res.end(); });
});
// nginx keeps its upstream connections 60 s: never close one under it
server.keepAliveTimeout = 120000;
server.headersTimeout = 121000;
// nginx's workers may run as another user
server.listen(SOCKET, () => fs.chmodSync(SOCKET, 0o777));
