/*
 * The role model: the built-in roles, what a role's flags grant, and the
 * validation of a role change. Pure: no I/O (the space's own roles are read
 * by core/role_table.c and the service).
 */
#include <stdio.h>
#include <string.h>

#include "tokend/core/core.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"

/* Admin holds every flag; Read-only none but the audit log, which it has
 * always read (the trail needed spaces:read, which every role grants). */
static const struct {
	struct td_role_grant g;
	const char *name;
} builtins[] = {
	{ { TD_ROLE_ADMIN, TD_RP_ALL, TD_ENV_ALL, 0, { 0 } }, "Admin" },
	{ { TD_ROLE_READONLY, TD_RP_ACCESS_AUDIT_LOG, TD_ENV_ALL, 0, { 0 } }, "Read-only" },
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

const char *const td_role_list_names[TD_RL__MAX] = {
	[TD_RL_POSITIVE_ITEM_TYPE] = "positive_item_type_permissions",
	[TD_RL_NEGATIVE_ITEM_TYPE] = "negative_item_type_permissions",
	[TD_RL_POSITIVE_UPLOAD] = "positive_upload_permissions",
	[TD_RL_NEGATIVE_UPLOAD] = "negative_upload_permissions",
	[TD_RL_POSITIVE_BUILD_TRIGGER] = "positive_build_trigger_permissions",
	[TD_RL_NEGATIVE_BUILD_TRIGGER] = "negative_build_trigger_permissions",
	[TD_RL_POSITIVE_SEARCH_INDEX] = "positive_search_index_permissions",
	[TD_RL_NEGATIVE_SEARCH_INDEX] = "negative_search_index_permissions",
};

const struct td_role_flag td_role_flags[] = {
	{ "can_edit_favicon", TD_RP_EDIT_FAVICON },
	{ "can_edit_site", TD_RP_EDIT_SITE },
	{ "can_edit_schema", TD_RP_EDIT_SCHEMA },
	{ "can_manage_menu", TD_RP_MANAGE_MENU },
	{ "can_edit_environment", TD_RP_EDIT_ENVIRONMENT },
	{ "can_promote_environments", TD_RP_PROMOTE_ENVIRONMENTS },
	{ "can_manage_users", TD_RP_MANAGE_USERS },
	{ "can_manage_shared_filters", TD_RP_MANAGE_SHARED_FILTERS },
	{ "can_manage_search_indexes", TD_RP_MANAGE_SEARCH_INDEXES },
	{ "can_manage_upload_collections", TD_RP_MANAGE_UPLOAD_COLLECTIONS },
	{ "can_manage_build_triggers", TD_RP_MANAGE_BUILD_TRIGGERS },
	{ "can_manage_webhooks", TD_RP_MANAGE_WEBHOOKS },
	{ "can_manage_environments", TD_RP_MANAGE_ENVIRONMENTS },
	{ "can_manage_sso", TD_RP_MANAGE_SSO },
	{ "can_access_audit_log", TD_RP_ACCESS_AUDIT_LOG },
	{ "can_manage_workflows", TD_RP_MANAGE_WORKFLOWS },
	{ "can_manage_access_tokens", TD_RP_MANAGE_ACCESS_TOKENS },
	{ "can_perform_site_search", TD_RP_PERFORM_SITE_SEARCH },
	{ "can_access_build_events_log", TD_RP_ACCESS_BUILD_EVENTS_LOG },
	{ "can_access_search_index_events_log", TD_RP_ACCESS_SEARCH_INDEX_EVENTS_LOG },
};

const size_t td_role_flags_count = sizeof(td_role_flags) / sizeof(td_role_flags[0]);

_Static_assert(sizeof(td_role_flags) / sizeof(td_role_flags[0]) == 20, "one name a flag");

static const char *const env_names[] = {
	[TD_ENV_NONE] = "none",
	[TD_ENV_PRIMARY_ONLY] = "primary_only",
	[TD_ENV_SANDBOX_ONLY] = "sandbox_only",
	[TD_ENV_ALL] = "all",
};

const struct td_role_grant *
td_role_builtin_grant(int64_t id)
{
	size_t i;

	for (i = 0; i < NBUILTINS; i++)
		if (builtins[i].g.id == id)
			return &builtins[i].g;
	return NULL;
}

const char *
td_role_builtin_name(int64_t id)
{
	size_t i;

	for (i = 0; i < NBUILTINS; i++)
		if (builtins[i].g.id == id)
			return builtins[i].name;
	return NULL;
}

void
td_role_defaults(struct td_role *r)
{
	int i;

	/* the lists are large: emptied, not cleared */
	memset(r, 0, offsetof(struct td_role, lists));
	for (i = 0; i < TD_RL__MAX; i++)
		r->lists[i][0] = '\0';
	r->env_access = TD_ENV_ALL;
}

int
td_role_builtin(int64_t id, struct td_role *out)
{
	const struct td_role_grant *g = td_role_builtin_grant(id);

	if (g == NULL)
		return -1;
	td_role_defaults(out);
	out->id = id;
	snprintf(out->name, sizeof(out->name), "%s", td_role_builtin_name(id));
	out->perms = g->perms;
	out->env_access = g->env_access;
	return 0;
}

unsigned
td_role_grants(unsigned perms)
{
	return TD_SCOPE_SPACES_READ | TD_SCOPE_TOKENS_READ |
	       (perms & TD_RP_MANAGE_ACCESS_TOKENS ? TD_SCOPE_TOKENS_WRITE : 0) |
	       (perms & TD_RP_ACCESS_AUDIT_LOG ? TD_SCOPE_AUDIT_READ : 0);
}

void
td_role_grant_of(const struct td_role *r, struct td_role_grant *g)
{
	g->id = r->id;
	g->perms = r->perms;
	g->env_access = r->env_access;
	g->ninherits = r->ninherits;
	memcpy(g->inherits, r->inherits, sizeof(g->inherits));
}

const char *
td_env_access_name(int env)
{
	return env >= TD_ENV_NONE && env <= TD_ENV_ALL ? env_names[env] : "none";
}

int
td_env_access_parse(const char *s, size_t len, int *out)
{
	int i;

	for (i = TD_ENV_NONE; s != NULL && i <= TD_ENV_ALL; i++) {
		if (strlen(env_names[i]) == len && memcmp(env_names[i], s, len) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

#define FAIL(c, f, m) do { err->code = (c); err->field = (f); err->message = (m); return -1; } while (0)

static int
apply_inherits(struct td_role *r, const struct td_role_change *ch, struct td_core_error *err)
{
	static const char field[] = "inherits_permissions_from";
	size_t i, j;

	if (ch->ninherits > TD_ROLE_INHERITS_MAX)
		FAIL(TD_ERR_INVALID, field, "is too long (maximum is 16 roles)");
	for (i = 0; i < ch->ninherits; i++) {
		if (ch->inherits[i] < 1 || ch->inherits[i] > TD_ID_MAX)
			FAIL(TD_ERR_INVALID, field, "no such role");
		if (r->id != 0 && ch->inherits[i] == r->id)
			FAIL(TD_ERR_INVALID, field, "a role cannot inherit from itself");
		for (j = 0; j < i; j++)
			if (ch->inherits[j] == ch->inherits[i])
				FAIL(TD_ERR_INVALID, field, "names a role twice");
		r->inherits[i] = ch->inherits[i];
	}
	r->ninherits = (int)ch->ninherits;
	return 0;
}

static int
apply_lists(struct td_role *r, const struct td_role_change *ch, struct td_core_error *err)
{
	const struct td_text *v;
	const char *msg = NULL;
	int i;

	/* DatoCMS: a pair is sent whole, since a list sent replaces the
	 * stored one and half a pair would silently erase the other half */
	for (i = 0; i < TD_RL__MAX; i += 2)
		if (!(ch->lists_set >> i & 1) != !(ch->lists_set >> (i + 1) & 1))
			FAIL(TD_ERR_INVALID, td_role_list_names[ch->lists_set >> i & 1 ? i + 1 : i],
			     "must be sent together with its positive_/negative_ counterpart");
	for (i = 0; i < TD_RL__MAX; i++) {
		if (!(ch->lists_set >> i & 1))
			continue;
		v = &ch->lists[i];
		if (ch->list_entries[i] > TD_ROLE_PERMISSIONS_MAX)
			FAIL(TD_ERR_INVALID, td_role_list_names[i], "is too long (maximum is 100 entries)");
		if (v->s != NULL && v->len > TD_ROLE_PERMISSIONS_BYTES)
			FAIL(TD_ERR_INVALID, td_role_list_names[i],
			     "is too large to store (at most 8192 bytes as compact JSON)");
		if (td_text_check(v, TD_ROLE_PERMISSIONS_BYTES, &msg) != 0)
			FAIL(TD_ERR_INVALID, td_role_list_names[i], msg);
		/* an empty list is no text: nothing stored */
		if (v->s == NULL || ch->list_entries[i] == 0)
			r->lists[i][0] = '\0';
		else
			td_text_copy(v, r->lists[i], sizeof(r->lists[i]));
	}
	return 0;
}

int
td_role_apply_change(struct td_role *r, const struct td_role_change *ch, int creating,
		     struct td_core_error *err)
{
	const char *msg = NULL;

	if (creating && !(ch->set & TD_RF_NAME))
		FAIL(TD_ERR_MISSING, "name", "can't be blank");
	if (ch->set & TD_RF_NAME) {
		if (ch->name.s == NULL || ch->name.len == 0)
			FAIL(TD_ERR_INVALID, "name", "can't be blank");
		if (td_text_check(&ch->name, TD_NAME_MAX, &msg) != 0)
			FAIL(TD_ERR_INVALID, "name", msg);
		td_text_copy(&ch->name, r->name, sizeof(r->name));
	}
	if ((ch->perms_set & ~(unsigned)TD_RP_ALL) != 0)
		FAIL(TD_ERR_INVALID, "attributes", "unknown flag");
	r->perms = (r->perms & ~ch->perms_set) | (ch->perms & ch->perms_set);
	if ((ch->set & TD_RF_ENV) &&
	    td_env_access_parse(ch->env_access.s, ch->env_access.len, &r->env_access) != 0)
		FAIL(TD_ERR_INVALID, "environments_access", "is not included in the list");
	if ((ch->set & TD_RF_INHERITS) && apply_inherits(r, ch, err) != 0)
		return -1;
	return apply_lists(r, ch, err);
}

void
td_role_duplicate_name(const char *name, int n, char *out, size_t size)
{
	char suffix[32];
	size_t len, i, chars = 0, keep = 0, room;

	len = (size_t)snprintf(suffix, sizeof(suffix), " (duplicate #%d)", n);
	room = TD_NAME_MAX > len ? TD_NAME_MAX - len : 0;
	/* the name is stored strict UTF-8: count characters by their lead bytes */
	for (i = 0; name[i] != '\0'; i++) {
		if (((unsigned char)name[i] & 0xc0) != 0x80) {
			if (chars == room)
				break;
			chars++;
		}
		keep = i + 1;
	}
	snprintf(out, size, "%.*s%s", (int)keep, name, suffix);
}
