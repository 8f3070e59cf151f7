/*
 * DatoCMS roles, for every caller of a space: list and get (tokens:read),
 * create, update, delete and duplicate (tokens:write, as DatoCMS gates them
 * on can_manage_access_tokens). Each function is the whole decision: the
 * built-in roles, what a role may grant, the caller's own access, the store
 * write and the activity entry.
 *
 * A role's change moves what every token holding it (or a role inheriting
 * from it) may do, so it is judged on the space's roles before and after:
 * no role whose grants move may hold, before or after, anything the caller
 * lacks (td_rule_role_change_within), and no role the caller rests on may
 * lose anything (td_rule_role_change_cuts_caller).
 */
#include <string.h>

#include "tokend/core/internal.h"
#include "tokend/core/rules.h"
#include "tokend/store/store.h"

#define NOT_FOUND "This record could not be found"
#define ROLE "role"

static int
unavailable(struct td_call *c)
{
	return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
}

/* out for r: its flags and environments after inheritance. */
static int
view_of(struct td_call *c, const struct td_role *r, struct td_role_view *out)
{
	const struct td_role_table *tab = NULL;
	struct td_role_grant g;

	if (r->id > TD_ROLE_BUILTIN_MAX && td_roles_load(c->ctx, c->space_id, &tab) != TD_OK)
		return unavailable(c);
	td_role_grant_of(r, &g);
	out->r = r;
	td_rule_role_effective(tab, &g, &out->final_perms, &out->final_env);
	return TD_OK;
}

struct list_ctx {
	struct td_call *c;
	td_core_role_cb cb;
	void *arg;
};

static int
list_one(const struct td_role *r, void *arg)
{
	struct list_ctx *l = arg;
	struct td_role_view v;

	if (view_of(l->c, r, &v) != TD_OK)
		return TD_STORE_DOWN;
	return l->cb(&v, l->arg);
}

int
td_core_role_list(struct td_call *c, td_core_role_cb cb, void *arg)
{
	struct td_role *r = &c->ctx->scratch_role;
	const struct td_role_table *tab;
	struct list_ctx l = { c, cb, arg };
	struct td_role_view v;
	int64_t id;

	if (td_core_expect(c, TD_OP_ROLE_LIST) != TD_OK)
		return c->err.code;
	/* read before the list: no store command while its replies are read */
	if (td_roles_load(c->ctx, c->space_id, &tab) != TD_OK)
		return unavailable(c);
	for (id = 1; id <= TD_ROLE_BUILTIN_MAX; id++) {
		(void)td_role_builtin(id, r);
		if (view_of(c, r, &v) != TD_OK)
			return c->err.code;
		if (cb(&v, arg) != 0)
			return td_fail(c, TD_ERR_INTERNAL, NULL, "out of memory");
	}
	return td_fail_store(c, td_store_role_list(c->ctx->store, c->space_id, list_one, &l),
			     NOT_FOUND);
}

/* Role id of the call's space (built in or its own) into scratch_role. */
static int
load(struct td_call *c, int64_t id)
{
	struct td_role *r = &c->ctx->scratch_role;

	if (td_role_builtin(id, r) == 0)
		return TD_OK;
	if (id <= TD_ROLE_BUILTIN_MAX || id > TD_ID_MAX)
		return td_fail(c, TD_ERR_NOT_FOUND, NULL, NOT_FOUND);
	return td_fail_store(c, td_store_role_get(c->ctx->store, c->space_id, id, r), NOT_FOUND);
}

int
td_core_role_get(struct td_call *c, int64_t id, struct td_role_view *out)
{
	if (td_core_expect(c, TD_OP_ROLE_GET) != TD_OK || load(c, id) != TD_OK)
		return c->err.code;
	return view_of(c, &c->ctx->scratch_role, out);
}

/* --- the space's roles before and after a change --- */

static int
find_index(const struct td_role_table *tab, int64_t id)
{
	int i;

	for (i = 0; i < tab->n; i++)
		if (tab->g[i].id == id)
			return i;
	return -1;
}

/* g into tab in id order, replacing the role of its id. */
static void
table_put(struct td_role_table *tab, const struct td_role_grant *g)
{
	int i = find_index(tab, g->id);

	if (i < 0) {
		if (tab->n == TD_SPACE_ROLES_MAX)
			return;	/* cannot happen: a role of the space is in its table */
		for (i = tab->n; i > 0 && tab->g[i - 1].id > g->id; i--)
			tab->g[i] = tab->g[i - 1];
		tab->n++;
	}
	tab->g[i] = *g;
}

static void
table_remove(struct td_role_table *tab, int64_t id)
{
	int i = find_index(tab, id);

	if (i < 0)
		return;
	memmove(&tab->g[i], &tab->g[i + 1], (size_t)(tab->n - i - 1) * sizeof(tab->g[0]));
	tab->n--;
}

/* The space's roles now, with role old as the caller read it (its revision
 * is what the write will be made on), into ctx->roles. */
static int
before_table(struct td_call *c, const struct td_role_grant *old, struct td_role_table **out)
{
	const struct td_role_table *tab;

	td_roles_forget(c->ctx);	/* a retry reads them again */
	if (td_roles_load(c->ctx, c->space_id, &tab) != TD_OK)
		return unavailable(c);
	*out = &c->ctx->roles;
	if (old != NULL)
		table_put(*out, old);
	return TD_OK;
}

/* A new role r (no id yet): what it inherits exists, and it grants, after
 * inheritance, nothing the caller lacks. */
static int
judge_new(struct td_call *c, const struct td_role *r)
{
	struct td_role_table *before = NULL;
	struct td_role_grant g;
	unsigned perms;
	int env;

	if (before_table(c, NULL, &before) != TD_OK)
		return c->err.code;
	td_role_grant_of(r, &g);
	if (!td_rule_role_inherits_known(before, &g))
		return td_fail(c, TD_ERR_INVALID, "inherits_permissions_from", "no such role");
	td_rule_role_effective(before, &g, &perms, &env);
	if ((td_role_grants(perms) & ~c->who.scopes) != 0)
		return td_fail(c, TD_ERR_EXCEEDS, ROLE, "a credential cannot make a role that "
			       "grants more than it holds");
	return TD_OK;
}

/* Changing role old into r (r NULL: deleting it), judged on the space's
 * roles before and after. */
static int
judge_change(struct td_call *c, const struct td_role_grant *old, const struct td_role *r)
{
	struct td_role_table *before = NULL, *after = &c->ctx->roles_after;
	struct td_role_grant g;

	if (before_table(c, old, &before) != TD_OK)
		return c->err.code;
	*after = *before;
	if (r == NULL) {
		table_remove(after, old->id);
	} else {
		td_role_grant_of(r, &g);
		if (!td_rule_role_inherits_known(before, &g))
			return td_fail(c, TD_ERR_INVALID, "inherits_permissions_from", "no such role");
		table_put(after, &g);
		if (td_rule_role_in_cycle(after, g.id))
			return td_fail(c, TD_ERR_INVALID, "inherits_permissions_from",
				       "would make the role inherit from itself");
	}
	if (!td_rule_role_change_within(&c->who, before, after, old->id))
		return td_fail(c, TD_ERR_EXCEEDS, ROLE, "a credential cannot change a role, or "
			       "what roles inheriting from it grant, beyond what it holds");
	if (td_rule_role_change_cuts_caller(&c->who, before, after))
		return td_fail(c, TD_ERR_SELF, ROLE, r == NULL
			       ? "a credential cannot delete its own role or that of the credential "
				 "that made it"
			       : "a credential cannot lower its own role or that of the credential "
				 "that made it");
	return TD_OK;
}

/* Names are unique in a space, the built-ins' too (the store checks the
 * space's own, in the write's script). */
static int
name_free(struct td_call *c, const struct td_role *r)
{
	int64_t id;

	for (id = 1; id <= TD_ROLE_BUILTIN_MAX; id++)
		if (strcmp(td_role_builtin_name(id), r->name) == 0)
			return td_fail(c, TD_ERR_EXISTS, "name", "has already been taken");
	return TD_OK;
}

/* A role write's store result in the role's words. */
static int
fail_write(struct td_call *c, int store_rc)
{
	switch (store_rc) {
	case TD_STORE_QUOTA:
		return td_fail(c, TD_ERR_QUOTA, "base",
			       "this space holds the most roles it may (100)");
	case TD_STORE_EXISTS:
		return td_fail(c, TD_ERR_EXISTS, "name", "has already been taken");
	case TD_STORE_DANGLING:
		return td_fail(c, TD_ERR_INVALID, "inherits_permissions_from", "no such role");
	case TD_STORE_IN_USE:
		return td_fail(c, TD_ERR_IN_USE, ROLE, "tokens hold this role or other roles "
			       "inherit from it: move them to another role first");
	default:
		return td_fail_store(c, store_rc, NOT_FOUND);
	}
}

static void
stamp(struct td_call *c, struct td_role *r, int creating)
{
	r->updated_at_ms = td_now_ms();
	memcpy(r->updated_by, c->who.actor, sizeof(r->updated_by));
	if (creating) {
		r->created_at_ms = r->updated_at_ms;
		memcpy(r->created_by, c->who.actor, sizeof(r->created_by));
	}
}

/* Writes new role r, recorded as verb. */
static int
create(struct td_call *c, struct td_role *r, const char *verb, struct td_role_view *out)
{
	int rc;

	stamp(c, r, 1);
	r->revision = 0;
	rc = td_store_role_create(c->ctx->store, r, TD_SPACE_ROLES_MAX);
	td_roles_forget(c->ctx);
	if (rc != TD_STORE_OK)
		return fail_write(c, rc);
	td_audit(c, c->space_id, ROLE, verb, r->id);
	return view_of(c, r, out);
}

int
td_core_role_create(struct td_call *c, const struct td_role_change *ch, struct td_role_view *out)
{
	struct td_role *r = &c->ctx->scratch_role;

	if (td_core_expect(c, TD_OP_ROLE_CREATE) != TD_OK)
		return c->err.code;
	td_role_defaults(r);
	r->space_id = c->space_id;
	if (td_role_apply_change(r, ch, 1, &c->err) != 0 || name_free(c, r) != TD_OK ||
	    judge_new(c, r) != TD_OK)
		return c->err.code;
	return create(c, r, "create", out);
}

/* Role id, one of the space's own, into scratch_role and old (a built-in
 * one is refused with code and why). */
static int
load_own(struct td_call *c, int64_t id, enum td_core_err code, const char *why,
	 struct td_role_grant *old)
{
	if (load(c, id) != TD_OK)
		return c->err.code;
	if (id <= TD_ROLE_BUILTIN_MAX)
		return td_fail(c, code, "id", why);
	td_role_grant_of(&c->ctx->scratch_role, old);
	return TD_OK;
}

typedef int (*once_fn)(struct td_call *c, int64_t id, const struct td_role_change *ch,
		       struct td_role_view *out);

/* fn until no other write came in between: each attempt reads the role
 * and the space's roles again and judges the change on them. */
static int
until_settled(struct td_call *c, enum td_op op, once_fn fn, int64_t id,
	      const struct td_role_change *ch, struct td_role_view *out)
{
	int rc, attempt = 0;

	if (td_core_expect(c, op) != TD_OK)
		return c->err.code;
	do
		rc = fn(c, id, ch, out);
	while (rc == TD_ERR_CONFLICT && td_cas_again(++attempt));
	return rc;
}

static int
update_once(struct td_call *c, int64_t id, const struct td_role_change *ch,
	    struct td_role_view *out)
{
	struct td_role *r = &c->ctx->scratch_role;
	struct td_role_grant old;
	int rc;

	if (load_own(c, id, TD_ERR_INVALID, "is a built-in role and cannot be changed", &old) != TD_OK)
		return c->err.code;
	if (td_role_apply_change(r, ch, 0, &c->err) != 0 || name_free(c, r) != TD_OK ||
	    judge_change(c, &old, r) != TD_OK)
		return c->err.code;
	stamp(c, r, 0);
	rc = td_store_role_put(c->ctx->store, r);
	td_roles_forget(c->ctx);
	if (rc != TD_STORE_OK)
		return fail_write(c, rc);
	td_audit(c, c->space_id, ROLE, "update", r->id);
	return view_of(c, r, out);
}

int
td_core_role_update(struct td_call *c, int64_t id, const struct td_role_change *ch,
		    struct td_role_view *out)
{
	return until_settled(c, TD_OP_ROLE_UPDATE, update_once, id, ch, out);
}

static int
delete_once(struct td_call *c, int64_t id, const struct td_role_change *ch,
	    struct td_role_view *out)
{
	struct td_role *r = &c->ctx->scratch_role;
	struct td_role_grant old;
	int rc;

	(void)ch;
	if (load_own(c, id, TD_ERR_IN_USE, "is a built-in role and cannot be deleted", &old) != TD_OK ||
	    judge_change(c, &old, NULL) != TD_OK)
		return c->err.code;
	/* whether a token holds it is decided in the delete's own script */
	rc = td_store_role_delete(c->ctx->store, c->space_id, id, r->revision, r);
	if (rc != TD_STORE_OK) {
		td_roles_forget(c->ctx);
		return fail_write(c, rc);
	}
	td_audit(c, c->space_id, ROLE, "delete", id);
	/* shown as it was: its inheritance judged on the roles before */
	out->r = r;
	td_rule_role_effective(&c->ctx->roles, &old, &out->final_perms, &out->final_env);
	td_roles_forget(c->ctx);
	return TD_OK;
}

int
td_core_role_delete(struct td_call *c, int64_t id, struct td_role_view *out)
{
	return until_settled(c, TD_OP_ROLE_DELETE, delete_once, id, NULL, out);
}

int
td_core_role_duplicate(struct td_call *c, int64_t id, struct td_role_view *out)
{
	struct td_role *r = &c->ctx->scratch_role;
	char base[sizeof(r->name)];
	int n, rc;

	if (td_core_expect(c, TD_OP_ROLE_DUPLICATE) != TD_OK || load(c, id) != TD_OK)
		return c->err.code;
	/* every attribute and what it inherits, as DatoCMS copies them */
	memcpy(base, r->name, sizeof(base));
	r->id = 0;
	r->space_id = c->space_id;
	if (judge_new(c, r) != TD_OK)
		return c->err.code;
	/* "(duplicate #N)" with the first N no role of the space has: each
	 * taken name is refused by the create's script, which checks names
	 * atomically, so two duplicates at once never share one */
	for (n = 1; n <= TD_SPACE_ROLES_MAX + TD_ROLE_BUILTIN_MAX + 1; n++) {
		td_role_duplicate_name(base, n, r->name, sizeof(r->name));
		if (name_free(c, r) != TD_OK)
			continue;
		rc = create(c, r, "duplicate", out);
		if (rc != TD_ERR_EXISTS)
			return rc;
	}
	return c->err.code;
}
