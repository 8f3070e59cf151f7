/*
 * Who is calling the management API and what they may do. The caller
 * presents a personal access token as "Authorization: <token>" or
 * "Authorization: Bearer <token>" (the Storyblok clients send both forms).
 * Missing, malformed, forged, unknown, revoked or expired: 401. Valid but
 * outside its spaces or scopes: 403.
 */
#ifndef TOKEND_AUTH_H
#define TOKEND_AUTH_H

#include <stdint.h>

#include "tokend/server/app.h"
#include "tokend/core/pat.h"

#define TD_AUTHORIZATION_MAX 512

struct td_principal {
	int64_t pat_id;			/* a personal access token, or */
	int64_t token_id;		/* a space token with the management right */
	int64_t role_id;
	int all_spaces;
	int64_t spaces[TD_PAT_SPACES_MAX];
	int nspaces;
	unsigned scopes;
	int full;
	char actor[TD_ACTOR_MAX];	/* "pat:<id>", for audit fields */
};

/* The token in an Authorization value: raw, or after a case-insensitive
 * "Bearer ". NULL when absent or empty; *len gets its length. */
const char *td_auth_bearer(const char *header, size_t *len);

int td_principal_has_space(const struct td_principal *p, int64_t space_id);

/* Who the caller is: 0 with *p filled, else 401 (no or bad credentials) or
 * 503. A space token is a management credential when it has the CMA right:
 * its role's scopes, in its own space only. */
int td_auth_identify(struct td_ctx *ctx, struct td_request *req, struct td_principal *p);

/* Whether token values may be shown to p (it can manage tokens). */
int td_principal_sees_secrets(const struct td_principal *p);

/* Counts one management call of who in a space (0 for calls about no one
 * space) against the space's rate limit, shared by all workers through
 * Redis (GCRA). Sets X-RateLimit-Limit/Remaining; over the limit it answers
 * 429 in the route's dialect with Retry-After and X-RateLimit-Reset and
 * returns -1. */
int td_rate_limit(struct td_ctx *ctx, struct td_request *req, const struct td_principal *who,
		  int64_t space_id);

/* Authenticates the caller and checks that it holds scope and, when
 * space_id > 0, may touch that space, then counts the call (td_rate_limit).
 * On refusal the error response is
 * already sent and -1 returned; 0 means go on. */
int td_auth_require(struct td_ctx *ctx, struct td_request *req, struct td_principal *p,
		    unsigned scope, int64_t space_id);

#endif
