// storyblok-js-client, unchanged, against tokend: the full api_keys CRUD
// cycle. Env: TOKEND_BASE (http://127.0.0.1:PORT), TOKEND_PAT, TOKEND_SPACE.
import assert from "node:assert/strict";
import StoryblokClient from "storyblok-js-client";

const SPACE = Number(process.env.TOKEND_SPACE);
const sb = new StoryblokClient({
  oauthToken: process.env.TOKEND_PAT,          // sent verbatim: "Authorization: <PAT>"
  endpoint: `${process.env.TOKEND_BASE}/v1`,
  rateLimit: 50,
});

const created = await sb.post(`spaces/${SPACE}/api_keys`,
  { api_key: { access: "public", name: "ci", min_cache: 60 } });
assert.equal(created.status, 201);
const key = created.data.api_key;
assert.equal(key.access, "public");
assert.equal(key.name, "ci");
assert.equal(key.min_cache, 60);
assert.equal(key.space_id, SPACE);
assert.match(key.token, /^td_pub_/);

const list = await sb.get(`spaces/${SPACE}/api_keys`);
assert.ok(Array.isArray(list.data.api_keys));   // the client itself rejects any GET status but 200
assert.ok(list.data.api_keys.some((k) => k.id === key.id && k.token === key.token));

const all = await sb.getAll(`spaces/${SPACE}/api_keys`, { per_page: 2 }, "api_keys");
assert.ok(all.some((k) => k.id === key.id));

const updated = await sb.put(`spaces/${SPACE}/api_keys/${key.id}`, { api_key: { name: "ci-renamed" } });
assert.equal(updated.data.api_key.name, "ci-renamed");
assert.equal(updated.data.api_key.min_cache, 60);

const deleted = await sb.delete(`spaces/${SPACE}/api_keys/${key.id}`);   // sends a "{}" body
assert.equal(deleted.data.api_key.id, key.id);
const after = await sb.get(`spaces/${SPACE}/api_keys`);
assert.ok(!after.data.api_keys.some((k) => k.id === key.id));

await assert.rejects(
  sb.post(`spaces/${SPACE}/api_keys`, { api_key: { name: "no access" } }),
  (e) => e.status === 422 && e.message === "access: can't be blank");
await assert.rejects(sb.put(`spaces/${SPACE}/api_keys/999999999`, { api_key: { name: "x" } }),
  (e) => e.status === 404);

const stranger = new StoryblokClient({ oauthToken: "not-a-token", endpoint: `${process.env.TOKEND_BASE}/v1` });
await assert.rejects(stranger.get(`spaces/${SPACE}/api_keys`), (e) => e.status === 401);
console.log("storyblok-js-client: create, list, getAll, update, delete, 422, 404, 401 ok");
