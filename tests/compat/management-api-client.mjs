// @storyblok/management-api-client, unchanged, against tokend (its escape
// hatch: the package has no api_keys resource). Env as storyblok-js-client.mjs.
import assert from "node:assert/strict";
import { createManagementApiClient } from "@storyblok/management-api-client";

const SPACE = Number(process.env.TOKEND_SPACE);
const base = `/v1/spaces/${SPACE}/api_keys`;

for (const auth of [{ personalAccessToken: process.env.TOKEND_PAT },
                    { oauthToken: process.env.TOKEND_PAT }]) {      // raw, then "Bearer <t>"
  const mapi = createManagementApiClient({
    ...auth, baseUrl: process.env.TOKEND_BASE, throwOnError: true, rateLimit: 50,
  });
  const { data: c, response: cr } = await mapi.post(base,
    { body: { api_key: { access: "private", name: "preview" } } });
  assert.equal(cr.status, 201);
  assert.equal(c.api_key.access, "private");
  assert.match(c.api_key.token, /^td_prv_/);

  const { data: l } = await mapi.get(base);
  assert.ok(l.api_keys.some((k) => k.id === c.api_key.id));

  const { data: u } = await mapi.put(`${base}/${c.api_key.id}`, { body: { api_key: { min_cache: 120 } } });
  assert.equal(u.api_key.min_cache, 120);
  assert.equal(u.api_key.name, "preview");

  const { data: d, response: dr } = await mapi.delete(`${base}/${c.api_key.id}`);
  assert.equal(dr.status, 200);
  assert.equal(d.api_key.id, c.api_key.id);

  await assert.rejects(mapi.delete(`${base}/999999999`), (e) =>
    e.response.status === 404 && e.response.statusText === "Not Found" &&
    JSON.stringify(e.response.data) === JSON.stringify(["This record could not be found"]));
  await assert.rejects(mapi.post(base, { body: { api_key: { access: "nope" } } }), (e) =>
    e.response.status === 422 &&
    JSON.stringify(e.response.data) === JSON.stringify({ access: ["is not included in the list"] }));
}
console.log("@storyblok/management-api-client: create, list, update, delete, 404, 422 ok (raw and Bearer)");
