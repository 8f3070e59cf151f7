/*
 * Redis Cluster (redis_url = redis-cluster://seed[,seed…]): which primary
 * serves a key, and following the cluster when that changes.
 *
 * Written here, on hiredis, because Debian 12 packages no cluster-aware C
 * client (hiredis-cluster is not in it). It is the small part of the
 * specification a client needs, no more:
 *
 *  - keys hash to one of 16384 slots (CRC16 of the key, or of its {hash
 *    tag}); every key of a space shares {s:<id>}, so a space's records,
 *    its scripts and its list pipelines go to one node;
 *  - the slot map comes from CLUSTER SLOTS, asked of a connected node, else
 *    of the URL's seeds, before the first command and whenever a node fails
 *    or answers CLUSTERDOWN (at most every STORE_MAP_REFRESH_MS);
 *  - MOVED updates the slot at once (and the whole map soon after); ASK
 *    sends the one command to the node named, after ASKING; TRYAGAIN and
 *    CLUSTERDOWN are waited out a bounded number of times (store.c), then
 *    the request answers 503;
 *  - each primary gets its own link (store_link): a data connection and a
 *    tracking connection, opened when a key first needs it. Any change of
 *    the map empties the verify cache (the cache stays exact on one node by
 *    tracking; across a change of owner it starts again).
 *
 * Replicas are never read from: reads from a replica could be older than
 * a revocation already acknowledged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/server/log.h"
#include "tokend/server/metrics.h"
#include "internal.h"

/* A full map refresh at most this often per worker: a failing node makes
 * every request on its slots ask, and the map only changes when the
 * cluster has promoted a replica (after its node timeout). */
#define STORE_MAP_REFRESH_MS 100

/* CRC16-CCITT (XMODEM), as the specification defines the slot, a byte at
 * a time from a table made on first use: every script's keys are checked
 * (store.c), so this runs a few times per write on any Redis. */
static unsigned
crc16(const char *buf, size_t len)
{
	static uint16_t table[256];
	static int ready;
	unsigned crc = 0, c;
	size_t i;
	int b;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			for (c = (unsigned)i << 8, b = 0; b < 8; b++)
				c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
			table[i] = (uint16_t)c;
		}
		ready = 1;
	}
	for (i = 0; i < len; i++)
		crc = ((crc << 8) ^ table[((crc >> 8) ^ (unsigned char)buf[i]) & 0xff]) & 0xffff;
	return crc;
}

unsigned
td_redis_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	/* the part between the first '{' and the next '}', if not empty */
	if (open != NULL) {
		close = memchr(open + 1, '}', (size_t)(key + len - open - 1));
		if (close != NULL && close > open + 1)
			return crc16(open + 1, (size_t)(close - open - 1)) & (STORE_SLOTS - 1);
	}
	return crc16(key, len) & (STORE_SLOTS - 1);
}

/* 1 if `field` is one of the comma-separated flags. */
static int
has_flag(const char *flags, size_t len, const char *field)
{
	size_t n = strlen(field);
	const char *p = flags, *end = flags + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t l = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);

		if (l == n && memcmp(p, field, n) == 0)
			return 1;
		p += l + 1;
	}
	return 0;
}

int
td_redis_cluster_view_trusted(const char *nodes, int primary)
{
	int primaries = 0, unreachable = 0, me = 0, fields, down;
	const char *line, *eol, *flags, *p;
	size_t flen;

	/* "<id> <addr> <flags> <primary> <ping> <pong> <epoch> <link> [<slot>…]" */
	for (line = nodes; *line != '\0'; line = *eol != '\0' ? eol + 1 : eol) {
		if ((eol = strchr(line, '\n')) == NULL)
			eol = line + strlen(line);
		flags = NULL;
		flen = 0;
		for (fields = 0, p = line; p < eol; fields++) {
			const char *sp = memchr(p, ' ', (size_t)(eol - p));
			const char *end = sp != NULL ? sp : eol;

			if (fields == 2) {
				flags = p;
				flen = (size_t)(end - p);
			}
			p = end + 1;
		}
		if (flags == NULL)
			continue;
		down = has_flag(flags, flen, "fail") || has_flag(flags, flen, "fail?");
		if (has_flag(flags, flen, "myself"))
			me = (!primary || has_flag(flags, flen, "master")) && !down;
		if (!has_flag(flags, flen, "master") || fields < 9)
			continue;	/* a replica, or a primary serving no slot: no vote */
		primaries++;
		unreachable += down;
	}
	return me && 2 * (primaries - unreachable) > primaries;
}

static int
same_node(const struct td_redis_node *n, const char *host, int port)
{
	return n->port == port && strcmp(n->host, host) == 0;
}

/* The link of host:port; with make, a free one taken for it. */
static struct store_link *
find_link(struct td_store *store, const char *host, int port, int make)
{
	struct store_link *free_link = NULL;
	int i;

	for (i = 0; i < TD_CLUSTER_PRIMARIES_MAX; i++) {
		struct store_link *l = &store->links[i];

		if (l->used && same_node(&l->node, host, port))
			return l;
		if (!l->used && l->redis == NULL && !l->busy && free_link == NULL)
			free_link = l;
	}
	if (!make || free_link == NULL || strlen(host) >= sizeof(free_link->node.host))
		return NULL;
	memset(free_link, 0, sizeof(*free_link));
	if (free_link - store->links >= store->nlinks)
		store->nlinks = (int)(free_link - store->links) + 1;
	snprintf(free_link->node.host, sizeof(free_link->node.host), "%s", host);
	free_link->node.port = port;
	free_link->used = 1;
	return free_link;
}

/* One CLUSTER SLOTS entry's primary: [start, end, [ip, port, id, …],
 * replicas…]: 0, 1 for an entry to skip, -1 for a reply not understood. */
static int
entry_primary(const redisReply *e, const char *asked_host, long long *start, long long *end,
	      const char **host, int *port)
{
	const redisReply *n;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER || e->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	*start = e->element[0]->integer;
	*end = e->element[1]->integer;
	n = e->element[2];
	if (*start < 0 || *end < *start || *end >= STORE_SLOTS || n->type != REDIS_REPLY_ARRAY ||
	    n->elements < 2 || n->element[0]->type != REDIS_REPLY_STRING ||
	    n->element[1]->type != REDIS_REPLY_INTEGER || n->element[1]->integer < 1 ||
	    n->element[1]->integer > 65535 || n->element[0]->len >= sizeof(((struct td_redis_node *)0)->host))
		return -1;
	/* an empty address means "the node you asked"; "?" an address unknown
	 * yet (its slots are left unserved until the map says more) */
	if (strcmp(n->element[0]->str, "?") == 0)
		return 1;
	*host = n->element[0]->len > 0 ? n->element[0]->str : asked_host;
	*port = (int)n->element[1]->integer;
	return 0;
}

/* Applies a CLUSTER SLOTS reply: the new map, links kept for the nodes
 * that stay, opened lazily for new ones, closed for the ones gone. */
static int
apply_map(struct td_store *store, const redisReply *r, const char *asked_host)
{
	unsigned char map[STORE_SLOTS], keep[TD_CLUSTER_PRIMARIES_MAX] = { 0 };
	struct store_link *l;
	const char *host;
	long long start, end, s;
	int port, i, changed = 0;
	size_t e;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return -1;
	memset(map, STORE_NO_LINK, sizeof(map));
	for (e = 0; e < r->elements; e++) {
		if ((i = entry_primary(r->element[e], asked_host, &start, &end, &host, &port)) < 0)
			return -1;
		if (i > 0)
			continue;
		if ((l = find_link(store, host, port, 1)) == NULL) {
			td_log_error("redis cluster: more than %d primaries", TD_CLUSTER_PRIMARIES_MAX);
			return -1;
		}
		keep[l - store->links] = 1;
		for (s = start; s <= end; s++)
			map[s] = (unsigned char)(l - store->links);
	}
	for (i = 0; i < store->nlinks; i++) {
		l = &store->links[i];
		if (l->used && !keep[i]) {	/* not a primary any more */
			store_link_close(store, l);
			l->used = 0;
			changed = 1;
		}
	}
	changed |= memcmp(map, store->slot_link, sizeof(map)) != 0;
	memcpy(store->slot_link, map, sizeof(map));
	if (changed) {
		if (store->map_known)
			td_log_info("redis cluster: slot map changed; verify cache emptied");
		store_tracking_reset(store);
	}
	store->map_known = 1;
	return 0;
}

/* The map of a node that reaches a majority of the primaries: one cut off
 * from them still names itself the owner of its slots, which another
 * primary may serve by now. */
static int
ask_for_map(struct td_store *store, redisContext *c, const char *host)
{
	redisReply *info = NULL, *r = NULL;
	int rc = -1;

	if (redisAppendCommand(c, "CLUSTER NODES") != REDIS_OK ||
	    redisAppendCommand(c, "CLUSTER SLOTS") != REDIS_OK ||
	    redisGetReply(c, (void **)&info) != REDIS_OK || redisGetReply(c, (void **)&r) != REDIS_OK)
		goto done;
	if (info->type == REDIS_REPLY_STRING && td_redis_cluster_view_trusted(info->str, 0))
		rc = apply_map(store, r, host);

done:
	if (rc == 0)
		td_metric_count(TD_M_REDIS_MAP_READ);
	freeReplyObject(info);
	freeReplyObject(r);
	return rc;
}

int
store_cluster_refresh(struct td_store *store)
{
	long long now = store_now_ms();
	char why[128];
	redisContext *c;
	int i;

	if (now < store->map_next_ms)
		return -1;
	store->map_next_ms = now + STORE_MAP_REFRESH_MS;
	/* the connections open already first: no new connection, no wait */
	for (i = 0; i < store->nlinks; i++) {
		struct store_link *l = &store->links[i];

		if (l->used && l->redis != NULL && !l->busy) {
			if (ask_for_map(store, l->redis, l->node.host) == 0)
				goto done;
			if (l->redis->err) {
				store->link = l;
				store_lost(store);
			}
		}
	}
	for (i = 0; i < store->url.nseeds; i++) {
		if ((c = store_open(store, &store->url.seeds[i], why, sizeof(why))) == NULL)
			continue;
		if (ask_for_map(store, c, store->url.seeds[i].host) == 0) {
			redisFree(c);
			goto done;
		}
		redisFree(c);
	}
	if (!store->map_reported)
		td_log_error("redis cluster: no node answered CLUSTER SLOTS");
	store->map_reported = 1;
	store->map_next_ms = now + store->retry_interval_ms;
	return -1;
done:
	if (store->map_reported)
		td_log_info("redis cluster: slot map read again");
	store->map_reported = 0;
	store->map_stale = 0;
	return 0;
}

int
store_cluster_pick(struct td_store *store, const char *key, size_t keylen)
{
	int i, idx;

	if (store->map_stale)
		(void)store_cluster_refresh(store);	/* meanwhile the old map still routes */
	if (key == NULL) {	/* any node: a connected one first */
		if (store->link->used && store->link->redis != NULL)
			return 0;
		for (i = 0; i < store->nlinks; i++)
			if (store->links[i].used && store->links[i].redis != NULL) {
				store->link = &store->links[i];
				return 0;
			}
		for (i = 0; i < store->nlinks; i++)
			if (store->links[i].used && store_now_ms() >= store->links[i].next_attempt_ms) {
				store->link = &store->links[i];
				return 0;
			}
		return -1;
	}
	idx = store->slot_link[td_redis_key_slot(key, keylen)];
	if (idx == STORE_NO_LINK) {
		store->map_stale = 1;
		return -1;	/* no primary serves it (yet): 503 */
	}
	store->link = &store->links[idx];
	return 0;
}

/* "<slot> <host>:<port>" after MOVED or ASK (the host may be IPv6: the
 * last ':' ends it). */
static struct store_link *
redirect_target(struct td_store *store, const char *s, long long *slot)
{
	char host[256];
	const char *sp = strchr(s, ' '), *colon;
	char *end;
	long long port;

	*slot = strtoll(s, &end, 10);
	if (sp == NULL || end != sp || *slot < 0 || *slot >= STORE_SLOTS ||
	    (colon = strrchr(sp + 1, ':')) == NULL || colon == sp + 1 ||
	    (size_t)(colon - sp - 1) >= sizeof(host))
		return NULL;
	port = strtoll(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return NULL;
	memcpy(host, sp + 1, (size_t)(colon - sp - 1));
	host[colon - sp - 1] = '\0';
	return find_link(store, host, (int)port, 1);
}

enum store_redirect
store_cluster_redirect(struct td_store *store, const redisReply *reply, struct store_link **to)
{
	struct store_link *l;
	long long slot;

	if (!store->url.is_cluster || reply->type != REDIS_REPLY_ERROR)
		return REDIRECT_NONE;
	if (strncmp(reply->str, "MOVED ", 6) == 0) {
		td_metric_count(TD_M_REDIS_REDIRECT);
		store->map_stale = 1;
		if ((l = redirect_target(store, reply->str + 6, &slot)) == NULL)
			return REDIRECT_DOWN;
		store->slot_link[slot] = (unsigned char)(l - store->links);
		store_tracking_reset(store);	/* an owner changed */
		return REDIRECT_MOVED;
	}
	if (strncmp(reply->str, "ASK ", 4) == 0) {
		td_metric_count(TD_M_REDIS_REDIRECT);
		if ((*to = redirect_target(store, reply->str + 4, &slot)) == NULL)
			return REDIRECT_DOWN;
		return REDIRECT_ASK;
	}
	if (strncmp(reply->str, "CLUSTERDOWN", 11) == 0) {
		store->map_stale = 1;
		return REDIRECT_CLUSTERDOWN;
	}
	return strncmp(reply->str, "TRYAGAIN", 8) == 0 ? REDIRECT_RETRY : REDIRECT_NONE;
}
