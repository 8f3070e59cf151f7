/*
 * The core service layer: every decision about spaces, tokens, PATs, roles
 * and the audit trail, made once for every dialect. A dialect (src/api/)
 * parses its request into a typed change, calls ONE function here, renders
 * the result and maps a core error to its own error shape through its
 * table. Nothing else authorizes, validates, defaults, stamps, writes to
 * the store or records an activity.
 *
 * A call runs in this order, the same for every view:
 *   who is calling (401) -> which space (the path's; a bound credential's
 *   own; else the one it names) -> may it reach that space with that scope
 *   (403) -> rate limit (429) -> does the space exist (404) -> the operation
 *   (its own rules: built-in tokens, self-delete, minted credentials,
 *   validation 422) -> the store -> the activity entry.
 *
 * This header knows no HTTP and no FastCGI (make check-layers).
 */
#ifndef TOKEND_CORE_CORE_H
#define TOKEND_CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "tokend/limits.h"
#include "tokend/core/cidr.h"
#include "tokend/core/cred_ref.h"
#include "tokend/core/last_use.h"
#include "tokend/core/uri.h"
#include "tokend/core/pat.h"
#include "tokend/core/role.h"
#include "tokend/core/sign.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"

struct td_config;
struct td_store;
struct td_verify_cache;
struct td_record_cache;
struct td_token_copy;

/* --- errors --- */

enum td_core_err {
	TD_OK = 0,
	TD_ERR_UNAUTHENTICATED,	/* no, bad, revoked or expired credential */
	TD_ERR_FORBIDDEN,	/* a valid credential outside its spaces or scopes */
	TD_ERR_ADDRESS,		/* a valid credential presented from outside its
				   allowed_cidrs (or a maker's) */
	TD_ERR_EXCEEDS,		/* would give a credential more than its maker holds */
	TD_ERR_NOT_FOUND,
	TD_ERR_INVALID,		/* a field's value: field and message say which and why */
	TD_ERR_MISSING,		/* a field a create requires is absent */
	TD_ERR_SPACE_REQUIRED,	/* a credential reaching several spaces named none */
	TD_ERR_BUILTIN,		/* a built-in token's attributes cannot change */
	TD_ERR_SELF,		/* a credential cannot delete or disable itself */
	TD_ERR_TRANSITION,	/* a lifecycle change not allowed from the current state */
	TD_ERR_EXISTS,		/* a caller-chosen id is taken */
	TD_ERR_CONFLICT,	/* the record kept changing under this write */
	TD_ERR_QUOTA,		/* a tenant's bound: tokens per space, PATs per owner */
	TD_ERR_IN_USE,		/* a record others depend on cannot be deleted (a
				   role a token holds or a role inherits from) */
	TD_ERR_RATE_LIMITED,
	TD_ERR_UNAVAILABLE,	/* Redis unreachable or failing */
	TD_ERR_REFUSED,		/* Redis up but refusing writes (OOM, MISCONF) */
	TD_ERR_INTERNAL,	/* no randomness, a key gone from the keyring */
	TD_ERR__MAX
};

struct td_core_error {
	enum td_core_err code;
	const char *field;	/* the input at fault, or NULL */
	const char *message;	/* for humans, in Rails' words for fields */
};

/* --- who is calling --- */

enum td_cred_kind { TD_CRED_PAT, TD_CRED_TOKEN };

struct td_principal {
	enum td_cred_kind kind;
	int64_t pat_id;			/* a personal access token, or */
	int64_t token_id;		/* a space token with the management right */
	int64_t role_id;
	int all_spaces;
	int full;			/* (before spaces: identify's memset clears it) */
	int64_t spaces[TD_PAT_SPACES_MAX];
	int nspaces;
	unsigned scopes;		/* enum td_scope bits */
	int64_t expires_at;		/* unix seconds, 0 = never */
	char actor[TD_ACTOR_MAX];	/* "pat:<id>" or "token:<id>", for audit fields */
	char ref[TD_CRED_REF_MAX];	/* "p:<id>" or "t:<space>:<id>", for minting */
	int depth;			/* makers above it: 0 for a credential no
					   credential minted */
	struct td_cred_ref makers[TD_MINT_DEPTH_MAX];	/* [0] its maker, [1] that
							   one's, ... [depth - 1] */
	struct td_cidr_list cidrs;	/* its own allowed_cidrs (n 0: unbound) */
	int64_t maker_roles[TD_MINT_DEPTH_MAX];	/* the role of each maker that is a
						   token (0 for a PAT): roles it rests on */
};

/* How a request names its space. */
enum td_space_from {
	TD_SPACE_NONE,		/* a call about no one space (spaces list, PATs) */
	TD_SPACE_PATH,		/* the id in the path: /v1/spaces/{id}/... */
	TD_SPACE_CALLER,	/* a bound credential's own; else the one named
				   (DatoCMS's X-Space-Id, SoftwareOne's account) */
};

/* Every management operation; the core's table says which scope each needs. */
enum td_op {
	TD_OP_TOKEN_LIST, TD_OP_TOKEN_GET, TD_OP_TOKEN_CREATE, TD_OP_TOKEN_UPDATE,
	TD_OP_TOKEN_REGENERATE, TD_OP_TOKEN_STATUS, TD_OP_TOKEN_DELETE,
	TD_OP_SPACE_LIST, TD_OP_SPACE_GET, TD_OP_SPACE_CREATE, TD_OP_SPACE_UPDATE,
	TD_OP_SPACE_DELETE, TD_OP_ACTIVITIES,
	TD_OP_ACCOUNT_ACTIVITIES,	/* the account's trail: PATs and spaces */
	TD_OP_PAT_LIST, TD_OP_PAT_GET, TD_OP_PAT_CREATE, TD_OP_PAT_DELETE,
	TD_OP_ROLE_LIST, TD_OP_ROLE_GET, TD_OP_ROLE_CREATE, TD_OP_ROLE_UPDATE,
	TD_OP_ROLE_DELETE, TD_OP_ROLE_DUPLICATE,
	TD_OP_MODULE_LIST,		/* SoftwareOne's catalogue: any caller */
	TD_OP_WHOAMI,			/* what the caller is and may do: any caller */
	TD_OP__MAX
};

struct td_ctx;

/* A management call in progress: td_core_begin fills it, every operation
 * below takes it. */
struct td_call {
	struct td_ctx *ctx;
	struct td_principal who;
	enum td_op op;
	int64_t space_id;		/* 0: none */
	const char *resource;		/* the view's name for tokens in activity
					   entries: "api_key", "access_token", "api_token" */
	int start_pending;		/* the rate limiters and the space read ride on
					   the operation's first round trip (call.c) */
	int rated;			/* rate below is set */
	long long rate_limit, rate_remaining, retry_after_ms;
	struct td_addr client;		/* where the call comes from, */
	int has_client;			/* when known */
	struct td_core_error err;	/* set when a call returns non-zero */
	char value[TD_TOKEN_STR_MAX];	/* a shown token value */
	/* a change judged on the worker's copy of its token (token_service.c):
	 * the copy's digest, until the write compares it */
	int on_copy, copy_refused;
	int mints;			/* the change makes the token its caller's (bound_by_maker) */
	char copy_digest[41];
};

/* Who calls (credential: the Authorization value's token, may be NULL;
 * client: the address it comes from, NULL when unknown), for which
 * operation, about which space. named:
 * the space the request names in TD_SPACE_CALLER mode (0 none, -1 named
 * but unreadable), or the path's id in TD_SPACE_PATH mode. 0 or an error. */
int td_core_begin(struct td_ctx *ctx, struct td_call *c, const char *credential, size_t len,
		  const struct td_addr *client, enum td_op op, enum td_space_from from,
		  int64_t named);

/* A call begun with its start left to its first round trip (start_pending)
 * that ends before making it: the start taken now (the rate limiters, the
 * space read), so the call counts and is refused as at its begin. TD_OK,
 * or the call fails (429, 404, 503). A no-op once the start was taken. */
int td_core_settle_start(struct td_call *c);

/* The spaces a request names in TD_SPACE_CALLER mode, each 0 (none),
 * TD_NAMED_MALFORMED (named, but not a space id) or an id: the X-Space-Id
 * header, and the body's own (SoftwareOne's account.id on create). */
#define TD_NAMED_MALFORMED (-1)
struct td_space_names {
	int64_t header;
	int64_t body;
	const char *body_field;	/* the body's name for it, for errors ("account") */
	const char *body_form;	/* what a malformed one is told ("must look like …") */
};

/* td_core_begin in TD_SPACE_CALLER mode with both names: a malformed body
 * name, or body and header naming different spaces, is TD_ERR_INVALID
 * (after 401); then as td_core_begin with the one named. */
int td_core_begin_named(struct td_ctx *ctx, struct td_call *c, const char *credential,
			size_t len, const struct td_addr *client, enum td_op op,
			const struct td_space_names *names);

/* A call by the operator at the host's command line: a principal above
 * every credential (full, all spaces, actor "cli"), not rate-limited. */
int td_core_begin_operator(struct td_ctx *ctx, struct td_call *c, enum td_op op);

/* How many live tokens and PATs each key signs (u[i].kid filled in): what
 * retiring a key would revoke. Reads every space; for the CLI, not for
 * requests. TD_OK or TD_ERR_UNAVAILABLE. */
struct td_key_usage {
	uint32_t kid;
	long long tokens, pats;
};
int td_core_key_usage(struct td_ctx *ctx, struct td_key_usage *u, int n);

/* Identifies a credential presented from client (NULL: unknown) without a
 * call (management auth only). 0, or TD_ERR_UNAUTHENTICATED,
 * TD_ERR_ADDRESS (outside its or a maker's allowed_cidrs) or
 * TD_ERR_UNAVAILABLE. */
int td_core_identify(struct td_ctx *ctx, const char *credential, size_t len,
		     const struct td_addr *client, struct td_principal *p);

/* --- typed changes --- */

/* A string from a request: s == NULL means null. Not yet validated. */
struct td_text {
	const char *s;
	size_t len;
};

/* Ids from a request; n > max means "too many" (nothing kept). */
struct td_change_ids {
	int64_t ids[TD_IDS_MAX];
	size_t n;
};

/* Address ranges from a request, unread; n > TD_CIDRS_MAX means "too many"
 * (nothing kept), n 0 (or null) no binding. */
struct td_change_cidrs {
	struct td_text items[TD_CIDRS_MAX];
	size_t n;
};

/* The shape a token is made in: what a create requires and defaults. */
enum td_token_shape {
	TD_SHAPE_API_KEY,	/* Storyblok: access required, name may be null */
	TD_SHAPE_ACCESS_TOKEN,	/* DatoCMS: name, the three rights and a role */
	TD_SHAPE_API_TOKEN,	/* SoftwareOne: name; a management credential
				   whose modules grant its scopes */
};

enum td_token_field {
	TD_TF_NAME = 1u << 0,
	TD_TF_DESCRIPTION = 1u << 1,
	TD_TF_ICON = 1u << 2,
	TD_TF_ACCESS = 1u << 3,
	TD_TF_BRANCH = 1u << 4,
	TD_TF_STORY_IDS = 1u << 5,
	TD_TF_RELEASE_IDS = 1u << 6,
	TD_TF_MIN_CACHE = 1u << 7,
	TD_TF_EXPIRES = 1u << 8,
	TD_TF_STATUS = 1u << 9,
	TD_TF_CDA = 1u << 10,
	TD_TF_CDA_PREVIEW = 1u << 11,
	TD_TF_CMA = 1u << 12,
	TD_TF_ROLE = 1u << 13,
	TD_TF_MODULES = 1u << 14,
	TD_TF_MAX_USES = 1u << 15,
	TD_TF_ALLOWED_CIDRS = 1u << 16,
};

struct td_token_change {
	enum td_token_shape shape;
	unsigned set;			/* enum td_token_field bits present */
	struct td_text name, description, icon, access, expires_at, status;
	int64_t branch_id;		/* 0 = null */
	int64_t min_cache;
	int min_cache_null;
	int64_t max_uses;		/* 0 (or null): no use limit */
	int cda, cda_preview, cma;
	int64_t role_id;		/* <= 0: names no role */
	int64_t module_ids[TD_TOKEN_MODULES_MAX];	/* <= 0: names no module */
	size_t nmodules;		/* > TD_TOKEN_MODULES_MAX: too many */
	/* large buffers last */
	struct td_change_ids story_ids, release_ids;
	struct td_change_cidrs allowed_cidrs;
};

/* Empties a change (no field present) for shape. */
void td_token_change_init(struct td_token_change *ch, enum td_token_shape shape);

struct td_space_change {
	int has_id;
	int64_t id;			/* caller-chosen id on create */
	int has_name;
	struct td_text name;
	int has_min_cache;
	int64_t min_cache;
	int has_rate_limit;
	int64_t rate_limit;		/* 0 with has_rate_limit: back to the default */
	/* the space's bounds ("limits"); 0: back to the server's default */
	int has_write_rate, has_tokens_max, has_record_bytes;
	int64_t write_rate, tokens_max, record_bytes;
};

struct td_pat_change {
	struct td_text name;
	int full;
	int has_spaces, all_spaces;
	int64_t spaces[TD_PAT_SPACES_MAX];
	size_t nspaces;			/* > TD_PAT_SPACES_MAX: too many */
	int has_scopes;
	unsigned scopes;
	int has_expires;
	struct td_text expires_at;
	int has_cidrs;
	struct td_change_cidrs allowed_cidrs;
};

/* A DatoCMS role document, typed. Lists are the view's compact JSON text of
 * each positive_/negative_ list (the view checked each entry's shape); the
 * core bounds them and keeps them. */
enum td_role_field {
	TD_RF_NAME = 1u << 0,
	TD_RF_ENV = 1u << 1,
	TD_RF_INHERITS = 1u << 2,
};

struct td_role_change {
	unsigned set;			/* enum td_role_field bits present */
	struct td_text name;
	unsigned perms_set;		/* enum td_role_perm bits present ... */
	unsigned perms;			/* ... and their values */
	struct td_text env_access;
	int64_t inherits[TD_ROLE_INHERITS_MAX];	/* <= 0: names no role */
	size_t ninherits;		/* > TD_ROLE_INHERITS_MAX: too many, none kept */
	unsigned lists_set;		/* bit i: list i (enum td_role_list) present */
	struct td_text lists[TD_RL__MAX];
	size_t list_entries[TD_RL__MAX];	/* entries in list i: the core bounds them */
};

/* What a worker serves requests with. The scratch records are per worker so
 * no call needs a 25 KB stack frame. */
struct td_ctx {
	const struct td_config *cfg;
	struct td_store *store;
	const struct td_keyring *keyring;
	struct td_verify_cache *verify_cache;	/* NULL: off (verify_cache_entries = 0) */
	struct td_record_cache *pat_cache;	/* NULL: off (likewise; a verify worker's) */
	struct td_record_cache *token_cache;	/* tokens it wrote (struct td_token_copy); NULL: none */
	struct td_token scratch_token;		/* the token a call works on */
	struct td_token_copy *token_written;	/* a change's record as written (save) */
	struct td_token auth_token;		/* the caller's own record, while identifying */
	struct td_pat scratch_pat;
	struct td_space scratch_space;		/* the call's space, once it is known to exist */
	struct td_role scratch_role;		/* the role a call works on (~66 KB) */
	struct td_role_change role_change;	/* a view's parsed role document */
	/* the call's space's own roles, read once per call when a role above
	 * the built-ins is met (core/role_table.c), and the same after a
	 * change, to judge what the change does */
	struct td_role_table roles, roles_after;
	struct td_token_change change;		/* a view's parsed request */
	struct td_canon_uri verify_uri;		/* a verify's original URI, canonical */
	struct td_last_use *last_use;		/* credentials' last use, to be written */
	char actor[TD_ACTOR_MAX];		/* the management credential a request
						   acted as ("pat:3"), for the access
						   log; "" before one is identified */
};

/* --- results --- */

/* A token as a view renders it. value: its string when this caller may see
 * it (and its key is still in the keyring), else NULL. */
struct td_token_view {
	const struct td_token *t;
	const struct td_space *space;	/* its space, when loaded (SoftwareOne's account) */
	int space_min_cache;
	const char *value;
};
typedef int (*td_token_view_cb)(const struct td_token_view *v, void *arg);
typedef int (*td_core_space_cb)(const struct td_space *sp, void *arg);
typedef int (*td_core_pat_cb)(const struct td_pat *p, void *arg);

/* --- tokens --- */

int td_core_token_list(struct td_call *c, td_token_view_cb cb, void *arg);
int td_core_token_get(struct td_call *c, int64_t id, struct td_token_view *out);
int td_core_token_create(struct td_call *c, const struct td_token_change *ch,
			 struct td_token_view *out);
int td_core_token_update(struct td_call *c, int64_t id, const struct td_token_change *ch,
			 struct td_token_view *out);
/* A new value; the replaced one keeps working for grace_seconds
 * (0..TD_GRACE_MAX; 0: refused at once). */
int td_core_token_regenerate(struct td_call *c, int64_t id, int64_t grace_seconds,
			     struct td_token_view *out);
int td_core_token_set_status(struct td_call *c, int64_t id, enum td_status to,
			     struct td_token_view *out);
/* soft: SoftwareOne's delete (kept for audit as Deleted, dead everywhere). */
int td_core_token_delete(struct td_call *c, int64_t id, int soft, struct td_token_view *out);

/* --- spaces --- */

int td_core_space_list(struct td_call *c, td_core_space_cb cb, void *arg);
int td_core_space_get(struct td_call *c, const struct td_space **out);
int td_core_space_create(struct td_call *c, const struct td_space_change *ch,
			 const struct td_space **out);
int td_core_space_update(struct td_call *c, const struct td_space_change *ch,
			 const struct td_space **out);
int td_core_space_delete(struct td_call *c, const struct td_space **out);

/* One entry of a space's activity trail. */
struct td_activity {
	char id[32];			/* the stream entry id, "<ms>-<seq>" */
	char actor[TD_ACTOR_MAX];
	char action[48];
	int64_t resource_id;
};

/* A trail, newest first (limit 1..TD_ACTIVITY_LIST_MAX): the space's for a
 * call begun for TD_OP_ACTIVITIES, the account's (personal access tokens and
 * spaces made, deleted, revoked) for TD_OP_ACCOUNT_ACTIVITIES, which only a
 * credential for all spaces may read. */
typedef int (*td_core_activity_cb)(const struct td_activity *a, void *arg);
int td_core_activities(struct td_call *c, int64_t limit, td_core_activity_cb cb, void *arg);

/* --- personal access tokens --- */

int td_core_pat_list(struct td_call *c, td_core_pat_cb cb, void *arg);
int td_core_pat_get(struct td_call *c, int64_t id, const struct td_pat **out);
/* *value gets the PAT's string: shown once, here, and never again. */
int td_core_pat_create(struct td_call *c, const struct td_pat_change *ch,
		       const struct td_pat **out, const char **value);
int td_core_pat_delete(struct td_call *c, int64_t id, const struct td_pat **out);

/* A root PAT for `tokend pat create` (no caller: the operator). */
int td_core_pat_issue_root(struct td_ctx *ctx, struct td_pat *p, char *value, size_t size);

/* --- roles (DatoCMS) --- */

/* The built-in roles, then the space's own in id order. */
typedef int (*td_core_role_cb)(const struct td_role_view *v, void *arg);
int td_core_role_list(struct td_call *c, td_core_role_cb cb, void *arg);
int td_core_role_get(struct td_call *c, int64_t id, struct td_role_view *out);
int td_core_role_create(struct td_call *c, const struct td_role_change *ch,
			struct td_role_view *out);
int td_core_role_update(struct td_call *c, int64_t id, const struct td_role_change *ch,
			struct td_role_view *out);
/* Refused (TD_ERR_IN_USE) for a built-in role, one a token of the space
 * holds, or one another role inherits from. out: the deleted role. */
int td_core_role_delete(struct td_call *c, int64_t id, struct td_role_view *out);
/* A new role with every attribute of role id (built-in ones too), named
 * "<name> (duplicate #N)" with the first N free in the space. */
int td_core_role_duplicate(struct td_call *c, int64_t id, struct td_role_view *out);

/* --- leak reports (GitHub's credential revocation API) --- */

/* Strings a secret scanner found in public, as a view read them: n > TD_LEAK_CREDENTIALS_MAX
 * means too many (only the first TD_LEAK_CREDENTIALS_MAX kept). */
struct td_leak_report {
	struct td_text creds[TD_LEAK_CREDENTIALS_MAX];
	size_t n;
};

/* A leak report from address (the client's, as the web server saw it; NULL:
 * unknown), needing no credential: counted against leak_report_rate per
 * address, then each genuine credential among the strings, current value,
 * is made unusable at once — a token disabled (a built-in one, which no view
 * can enable again, gets a new value instead), a PAT revoked with all it
 * minted — with an audit entry naming the address. A string that is no
 * credential of this server costs no Redis I/O. The result never says which
 * strings were genuine. 0, or TD_ERR_INVALID (too many or too long strings),
 * TD_ERR_RATE_LIMITED, TD_ERR_UNAVAILABLE / TD_ERR_REFUSED; c gets the
 * error and the rate (no one calls: c->who stays empty). */
int td_core_leak_report(struct td_ctx *ctx, struct td_call *c, const char *address,
			const struct td_leak_report *report);

/* --- health --- */

/* 0 when Redis answers. */
int td_core_health(struct td_ctx *ctx);

/* Whether the credential of a begun call may start op at all: its scope,
 * and for an operation about every space, a reach over all of them. A
 * space- or record-specific rule may still refuse it; this is what a
 * client offers (GET /v1/whoami), the call itself still decides. */
int td_core_may(const struct td_call *c, enum td_op op);

#endif
