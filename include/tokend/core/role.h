/*
 * Management roles for space tokens (DatoCMS roles). Every space has the two
 * built-in roles (1 Admin, 2 Read-only) and up to TD_SPACE_ROLES_MAX roles of
 * its own, each a record in the space. A token with the management right
 * (can_access_cma) acts with its role's permissions in its own space only.
 *
 * Of a role's permissions tokend enforces the two that concern it, after
 * inheritance (inherits_permissions_from): can_manage_access_tokens (write
 * tokens and roles) and can_access_audit_log (read the space's trail). Every
 * role may read the space and its tokens, as the built-in Read-only always
 * could. The other flags and the permission lists are kept and shown, for
 * the clients that read them, and judge nothing here.
 */
#ifndef TOKEND_ROLE_H
#define TOKEND_ROLE_H

#include <stddef.h>
#include <stdint.h>

#include "tokend/limits.h"

#define TD_ROLE_ADMIN       1
#define TD_ROLE_READONLY    2
#define TD_ROLE_BUILTIN_MAX 2	/* ids up to this are built in; a space's own are above */

/* A role's flags, one bit each. The bit order is the stored format: append,
 * never reorder. */
enum td_role_perm {
	TD_RP_EDIT_FAVICON = 1u << 0,
	TD_RP_EDIT_SITE = 1u << 1,
	TD_RP_EDIT_SCHEMA = 1u << 2,
	TD_RP_MANAGE_MENU = 1u << 3,
	TD_RP_EDIT_ENVIRONMENT = 1u << 4,
	TD_RP_PROMOTE_ENVIRONMENTS = 1u << 5,
	TD_RP_MANAGE_USERS = 1u << 6,
	TD_RP_MANAGE_SHARED_FILTERS = 1u << 7,
	TD_RP_MANAGE_SEARCH_INDEXES = 1u << 8,
	TD_RP_MANAGE_UPLOAD_COLLECTIONS = 1u << 9,
	TD_RP_MANAGE_BUILD_TRIGGERS = 1u << 10,
	TD_RP_MANAGE_WEBHOOKS = 1u << 11,
	TD_RP_MANAGE_ENVIRONMENTS = 1u << 12,
	TD_RP_MANAGE_SSO = 1u << 13,
	TD_RP_ACCESS_AUDIT_LOG = 1u << 14,		/* enforced: the space's trail */
	TD_RP_MANAGE_WORKFLOWS = 1u << 15,
	TD_RP_MANAGE_ACCESS_TOKENS = 1u << 16,		/* enforced: write tokens, roles */
	TD_RP_PERFORM_SITE_SEARCH = 1u << 17,
	TD_RP_ACCESS_BUILD_EVENTS_LOG = 1u << 18,
	TD_RP_ACCESS_SEARCH_INDEX_EVENTS_LOG = 1u << 19,
	TD_RP_ALL = (1u << 20) - 1,
};

/* environments_access as two bits, so inheritance is their union. */
enum td_env_access {
	TD_ENV_NONE = 0,
	TD_ENV_PRIMARY_ONLY = 1,
	TD_ENV_SANDBOX_ONLY = 2,
	TD_ENV_ALL = 3,
};

/* The positive_/negative_ permission lists, in pairs (positive at an even
 * index, its negative next): a change sends both of a pair or neither. */
enum td_role_list {
	TD_RL_POSITIVE_ITEM_TYPE, TD_RL_NEGATIVE_ITEM_TYPE,
	TD_RL_POSITIVE_UPLOAD, TD_RL_NEGATIVE_UPLOAD,
	TD_RL_POSITIVE_BUILD_TRIGGER, TD_RL_NEGATIVE_BUILD_TRIGGER,
	TD_RL_POSITIVE_SEARCH_INDEX, TD_RL_NEGATIVE_SEARCH_INDEX,
	TD_RL__MAX
};

struct td_role {
	int64_t id;
	int64_t space_id;			/* 0: built in */
	char name[TD_TEXT_BYTES(TD_NAME_MAX)];
	unsigned perms;				/* enum td_role_perm bits declared on it */
	int env_access;				/* enum td_env_access */
	int64_t inherits[TD_ROLE_INHERITS_MAX];	/* roles of its space (or built in) */
	int ninherits;
	int64_t created_at_ms, updated_at_ms;
	char created_by[TD_ACTOR_MAX], updated_by[TD_ACTOR_MAX];
	int64_t revision;			/* counted up by every write (compare-and-set) */
	/* each list as the view sent it, compact JSON ("" = none); tokend
	 * judges no content permission, so it keeps them as text. Large: last. */
	char lists[TD_RL__MAX][TD_ROLE_PERMISSIONS_BYTES + 1];
};

/* A role as a view renders it: the record, and its flags and environments
 * after inheritance (DatoCMS's meta.final_permissions). */
struct td_role_view {
	const struct td_role *r;
	unsigned final_perms;
	int final_env;
};

/* What the enforcement needs of a space's own role: its flags and whom it
 * inherits from. The space's roles as one table, read once per call. */
struct td_role_grant {
	int64_t id;
	unsigned perms;
	int env_access;
	int ninherits;
	int64_t inherits[TD_ROLE_INHERITS_MAX];
};

struct td_role_table {
	int64_t space_id;			/* 0: not loaded */
	int n;
	struct td_role_grant g[TD_SPACE_ROLES_MAX];
};

/* The attribute names of the flags and lists (DatoCMS's, the one dialect
 * with roles), for errors and for the view's parser and renderer. */
struct td_role_flag {
	const char *name;
	unsigned bit;
};
extern const struct td_role_flag td_role_flags[];
extern const size_t td_role_flags_count;
extern const char *const td_role_list_names[TD_RL__MAX];

/* A built-in role into out (its lists empty); -1 for any other id. */
int td_role_builtin(int64_t id, struct td_role *out);
/* A built-in role's grant, or NULL. */
const struct td_role_grant *td_role_builtin_grant(int64_t id);
/* A built-in role's name, or NULL (names are unique in a space). */
const char *td_role_builtin_name(int64_t id);

/* The PAT-style scopes (enum td_scope) a role's effective flags grant in its
 * space: read the space and its tokens; write tokens with
 * can_manage_access_tokens; read the trail with can_access_audit_log. */
unsigned td_role_grants(unsigned perms);

/* A role's grant (what enforcement reads) from its record. */
void td_role_grant_of(const struct td_role *r, struct td_role_grant *g);

/* "all", "primary_only", "sandbox_only", "none" and back; -1 if unknown. */
const char *td_env_access_name(int env);
int td_env_access_parse(const char *s, size_t len, int *out);

/* Empties a role for a create: no flags, every environment, nothing inherited. */
void td_role_defaults(struct td_role *r);

struct td_role_change;
struct td_core_error;

/* Validates the fields present in ch and applies them to r: 0, or -1 with
 * *err naming the first bad field. creating: a name is required. Whether
 * inherited roles exist is the service's to check (it has the space's
 * table); here they are ids, none twice, not the role itself. */
int td_role_apply_change(struct td_role *r, const struct td_role_change *ch, int creating,
			 struct td_core_error *err);

/* "<name> (duplicate #n)" into out (TD_TEXT_BYTES(TD_NAME_MAX)), the name
 * shortened, at a character, so the whole stays within TD_NAME_MAX. */
void td_role_duplicate_name(const char *name, int n, char *out, size_t size);

#endif
