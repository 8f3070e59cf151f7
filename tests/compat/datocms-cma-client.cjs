// @datocms/cma-client-node, unchanged, against tokend: all six
// client.accessTokens calls, all six client.roles calls (a token holding a new
// role included) plus error cases. Env: TOKEND_BASE, TOKEND_DATO_TOKEN (a space
// token with can_access_cma and the admin role), TOKEND_READONLY_TOKEN.
const assert = require("node:assert/strict");
const { buildClient, ApiError } = require("@datocms/cma-client-node");

const client = buildClient({
  apiToken: process.env.TOKEND_DATO_TOKEN,
  baseUrl: process.env.TOKEND_BASE,
  autoRetry: false,
  requestTimeout: 10000,
});

(async () => {
  const roles = await client.roles.list();
  assert.ok(roles.some((r) => r.id === "1" && r.can_manage_access_tokens === true));
  const before = await client.accessTokens.list();
  const created = await client.accessTokens.create({
    name: "smoke", can_access_cda: true, can_access_cda_preview: false,
    can_access_cma: true, role: { type: "role", id: "1" },
  });
  assert.equal(created.type, "access_token");
  assert.equal(typeof created.token, "string");
  assert.equal(created.hardcoded_type, null);
  assert.deepEqual(created.role, { type: "role", id: "1" });
  assert.equal((await client.accessTokens.list()).length, before.length + 1);

  const found = await client.accessTokens.find(created.id);
  assert.equal(found.id, created.id);
  assert.equal(found.token, created.token);

  const updated = await client.accessTokens.update(created.id, {
    name: "smoke-2", can_access_cda: false, can_access_cda_preview: true, can_access_cma: true,
  });
  assert.equal(updated.name, "smoke-2");
  assert.equal(updated.can_access_cda_preview, true);
  assert.deepEqual(updated.role, created.role);
  assert.equal(updated.token, created.token);

  const rotated = await client.accessTokens.regenerateToken(created.id);
  assert.notEqual(rotated.token, created.token);

  // the rotated token works as a client itself; the old value does not
  const fresh = buildClient({ apiToken: rotated.token, baseUrl: process.env.TOKEND_BASE, autoRetry: false });
  assert.ok((await fresh.accessTokens.list()).length > 0);
  const stale = buildClient({ apiToken: created.token, baseUrl: process.env.TOKEND_BASE, autoRetry: false });
  await assert.rejects(stale.accessTokens.list(), (e) =>
    e instanceof ApiError && e.response.status === 401 && !!e.findError("INVALID_AUTHORIZATION_HEADER"));
  // a token cannot delete itself
  await assert.rejects(fresh.accessTokens.destroy(created.id), (e) =>
    e instanceof ApiError && !!e.findError("CANNOT_DESTROY_CURRENT_USER"));

  const destroyed = await client.accessTokens.destroy(created.id);
  assert.equal(destroyed.id, created.id);
  await assert.rejects(client.accessTokens.find(created.id), (e) =>
    e instanceof ApiError && e.response.status === 404 && !!e.findError("NOT_FOUND"));
  await assert.rejects(client.accessTokens.create({
    name: "x", can_access_cda: true, can_access_cda_preview: false, can_access_cma: false,
    role: { type: "role", id: "999" },
  }), (e) => e instanceof ApiError && e.response.status === 422 && !!e.findError("INVALID_FIELD"));

  // a read-only role sees no secrets and may not write
  const reader = buildClient({ apiToken: process.env.TOKEND_READONLY_TOKEN, baseUrl: process.env.TOKEND_BASE, autoRetry: false });
  const seen = await reader.accessTokens.list();
  assert.ok(seen.length > 0 && seen.every((t) => t.token === null));
  await assert.rejects(reader.accessTokens.create({
    name: "x", can_access_cda: true, can_access_cda_preview: false, can_access_cma: false,
    role: { type: "role", id: "2" },
  }), (e) => e instanceof ApiError && !!e.findError("INSUFFICIENT_PERMISSIONS"));

  // roles: the project's own beside the built-in ones
  const items = [{ action: "all", environment: "main", on_creator: "anyone", localization_scope: "all" }];
  const role = await client.roles.create({
    name: "compat editor", can_edit_schema: true, can_manage_access_tokens: false,
    environments_access: "primary_only",
    positive_item_type_permissions: items, negative_item_type_permissions: [],
  });
  assert.equal(role.type, "role");
  assert.equal(role.name, "compat editor");
  assert.equal(role.can_edit_schema, true);
  assert.equal(role.can_manage_access_tokens, false);
  assert.equal(role.environments_access, "primary_only");
  assert.deepEqual(role.positive_item_type_permissions, items);
  assert.deepEqual(role.inherits_permissions_from, []);
  assert.equal(role.meta.final_permissions.can_edit_schema, true);
  assert.deepEqual(await client.roles.find(role.id), role);
  assert.ok((await client.roles.list()).some((r) => r.id === role.id));

  const updatedRole = await client.roles.update(role.id, {
    name: "compat editor 2", inherits_permissions_from: [{ type: "role", id: "2" }],
  });
  assert.equal(updatedRole.name, "compat editor 2");
  assert.equal(updatedRole.can_edit_schema, true);
  assert.deepEqual(updatedRole.inherits_permissions_from, [{ type: "role", id: "2" }]);
  assert.equal(updatedRole.meta.final_permissions.can_access_audit_log, true);

  const copy = await client.roles.duplicate(role.id);
  assert.notEqual(copy.id, role.id);
  assert.equal(copy.name, "compat editor 2 (duplicate #1)");
  assert.deepEqual(copy.positive_item_type_permissions, items);
  assert.deepEqual(copy.inherits_permissions_from, updatedRole.inherits_permissions_from);

  // a token holding the new role: it reads with it, writes nothing, and
  // keeps the role from being deleted
  const holder = await client.accessTokens.create({
    name: "role holder", can_access_cda: true, can_access_cda_preview: false,
    can_access_cma: true, role: { type: "role", id: role.id },
  });
  assert.deepEqual(holder.role, { type: "role", id: role.id });
  const held = buildClient({ apiToken: holder.token, baseUrl: process.env.TOKEND_BASE, autoRetry: false });
  assert.ok((await held.roles.list()).some((r) => r.id === copy.id));
  assert.ok((await held.accessTokens.list()).every((t) => t.token === null));
  await assert.rejects(held.roles.create({ name: "nope" }), (e) =>
    e instanceof ApiError && e.response.status === 403 && !!e.findError("INSUFFICIENT_PERMISSIONS"));
  await assert.rejects(client.roles.destroy(role.id), (e) =>
    e instanceof ApiError && e.response.status === 422 && !!e.findError("DELETE_RESTRICTION"));

  await client.accessTokens.destroy(holder.id);
  const destroyedRole = await client.roles.destroy(role.id);
  assert.equal(destroyedRole.id, role.id);
  await client.roles.destroy(copy.id);
  await assert.rejects(client.roles.find(role.id), (e) =>
    e instanceof ApiError && e.response.status === 404 && !!e.findError("NOT_FOUND"));
  // the built-in roles stay
  await assert.rejects(client.roles.destroy("1"), (e) =>
    e instanceof ApiError && e.response.status === 422 && !!e.findError("DELETE_RESTRICTION"));
  await assert.rejects(client.roles.update("2", { name: "mine" }), (e) =>
    e instanceof ApiError && e.response.status === 422 && !!e.findError("INVALID_FIELD"));
  console.log("@datocms/cma-client-node: accessTokens (list, find, create, update, regenerateToken, destroy), roles (create, find, list, update, duplicate, destroy) and errors ok");
})().catch((e) => { console.error(e); process.exit(1); });
