/*
 * Personal access tokens: management credentials. A PAT names the spaces it
 * may touch ("all" or a list) and a level per resource; full_permission is
 * everything. Only a keyed hash of its secret is stored.
 */
#ifndef TOKEND_PAT_H
#define TOKEND_PAT_H

#include <stdint.h>

#include <json-c/json.h>

#include "tokend/core/sign.h"
#include "tokend/core/token.h"


enum td_scope {
	TD_SCOPE_SPACES_READ = 1 << 0,
	TD_SCOPE_SPACES_WRITE = 1 << 1,
	TD_SCOPE_TOKENS_READ = 1 << 2,
	TD_SCOPE_TOKENS_WRITE = 1 << 3,
	TD_SCOPE_PATS_READ = 1 << 4,
	TD_SCOPE_PATS_WRITE = 1 << 5,
	TD_SCOPE_ALL = (1 << 6) - 1,
};

struct td_pat {
	int64_t id;
	char name[TD_TEXT_BYTES(TD_NAME_MAX)];
	int all_spaces;
	int64_t spaces[TD_PAT_SPACES_MAX];
	int nspaces;
	unsigned scopes;		/* enum td_scope bits; write implies read */
	int full;
	int64_t expires_at;		/* unix seconds, 0 = never */
	uint32_t kid;
	unsigned char hash[TD_PAT_HASH_BYTES];
	int64_t created_at_ms;
	char created_by[TD_ACTOR_MAX];
	char minted_by[TD_CRED_REF_MAX];	/* the PAT that made it, "p:<id>"; "" = none */
};

/* name (required), spaces ("all" or ids), scopes ({"spaces": "read"|"write", ...}),
 * expires_at, full_permission. */
int td_pat_apply_json(struct td_pat *p, struct json_object *obj, struct td_field_error *err);

/* The scopes object of a PAT, for rendering. */
struct json_object *td_pat_scopes_json(unsigned scopes);

#endif
