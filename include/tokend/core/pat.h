/*
 * Personal access tokens: management credentials. A PAT names the spaces it
 * may touch ("all" or a list) and a level per resource; full_permission is
 * everything. Only a keyed hash of its secret is stored.
 */
#ifndef TOKEND_PAT_H
#define TOKEND_PAT_H

#include <stdint.h>

#include "tokend/core/sign.h"
#include "tokend/core/token.h"


enum td_scope {
	TD_SCOPE_SPACES_READ = 1 << 0,
	TD_SCOPE_SPACES_WRITE = 1 << 1,
	TD_SCOPE_TOKENS_READ = 1 << 2,
	TD_SCOPE_TOKENS_WRITE = 1 << 3,
	TD_SCOPE_PATS_READ = 1 << 4,
	TD_SCOPE_PATS_WRITE = 1 << 5,
	TD_SCOPE_ALL = (1 << 6) - 1,	/* the catalogue's: what a PAT stores */
	/* Never stored, derived where a principal is made: reading a space's
	 * audit trail. A PAT holds it with spaces:read (as it always read the
	 * trail with that), a token through its role's can_access_audit_log. */
	TD_SCOPE_AUDIT_READ = 1 << 6,
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
	int64_t last_used_ms;			/* last accepted (0: never) */
	struct td_cidr_list allowed_cidrs;	/* where it may be used from (n 0: anywhere) */
};

/* The scope catalogue: a resource and the bits its read and write levels grant. */
struct td_pat_resource {
	const char *name;
	unsigned read, write;
};
extern const struct td_pat_resource *const td_pat_resources;
extern const int td_pat_resources_count;

/* "access_tokens" + "write" -> its bits (write implies read); -1 if unknown. */
int td_pat_scope_bits(const char *resource, const char *level, unsigned *bits);

struct td_pat_change;
struct td_core_error;

/* name (required), full_permission, else spaces and scopes (required),
 * expires_at. 0 or -1 with *err. */
int td_pat_apply_change(struct td_pat *p, const struct td_pat_change *ch,
			struct td_core_error *err);

#endif
