#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "tokend/core/auth.h"
#include "tokend/core/module.h"
#include "tokend/core/role.h"
#include "tokend/store/store.h"

const char *
td_auth_bearer(const char *header, size_t *len)
{
	size_t n;

	if (header == NULL)
		return NULL;
	while (*header == ' ' || *header == '\t')
		header++;
	if (strncasecmp(header, "Bearer", 6) == 0 && (header[6] == ' ' || header[6] == '\t')) {
		header += 6;
		while (*header == ' ' || *header == '\t')
			header++;
	}
	n = strlen(header);
	while (n > 0 && (header[n - 1] == ' ' || header[n - 1] == '\t'))
		n--;
	if (n == 0 || n > TD_AUTHORIZATION_MAX)
		return NULL;
	*len = n;
	return header;
}

int
td_principal_has_space(const struct td_principal *p, int64_t space_id)
{
	int i;

	if (p->all_spaces)
		return 1;
	for (i = 0; i < p->nspaces; i++)
		if (p->spaces[i] == space_id)
			return 1;
	return 0;
}

int
td_principal_sees_secrets(const struct td_principal *p)
{
	return (p->scopes & TD_SCOPE_TOKENS_WRITE) != 0;
}

/* A space token as a management credential: current value, active, not
 * expired, with the CMA right and a known role. */
static int
authenticate_space_token(struct td_ctx *ctx, const struct td_token_ref *ref,
			 struct td_principal *p)
{
	struct td_token *t = &ctx->scratch_token;
	const struct td_role *role;
	int rc, mc;

	rc = td_store_token_get(ctx->store, ref->space_id, ref->id, t, &mc);
	if (rc < 0)
		return 503;
	if (rc != TD_STORE_OK || t->kid != ref->kid || t->signed_kind != ref->kind ||
	    CRYPTO_memcmp(t->secret, ref->secret, TD_SECRET_BYTES) != 0 ||
	    t->status != TD_STATUS_ACTIVE || !(t->rights & TD_RIGHT_CMA) ||
	    (t->expires_at != 0 && t->expires_at <= (int64_t)time(NULL)))
		return 401;
	role = td_role_find(t->role_id);
	memset(p, 0, sizeof(*p));
	p->token_id = t->id;
	p->role_id = t->role_id;
	p->spaces[0] = t->space_id;
	p->nspaces = 1;
	/* its role's permissions, plus what its SoftwareOne modules grant */
	p->scopes = td_role_scopes(role) | td_module_scopes(t->modules, t->nmodules);
	snprintf(p->actor, sizeof(p->actor), "token:%" PRId64, t->id);
	return 0;
}

/* 0 with *p filled, or an HTTP status (401, 503). No I/O for a token that
 * does not verify. */
int
td_auth_identify(struct td_ctx *ctx, struct td_request *req, struct td_principal *p)
{
	unsigned char hash[TD_PAT_HASH_BYTES];
	struct td_token_ref ref;
	struct td_pat *pat = &ctx->scratch_pat;
	const struct td_key *key;
	const char *tok;
	size_t len;
	int rc;

	tok = td_auth_bearer(td_request_header(req, "Authorization"), &len);
	if (tok == NULL)
		return 401;
	if (td_token_parse(ctx->keyring, tok, len, &ref) != TD_TOKEN_OK)
		return 401;
	if (ref.kind != TD_KIND_PAT)
		return authenticate_space_token(ctx, &ref, p);
	rc = td_store_pat_get(ctx->store, ref.id, pat);
	if (rc < 0)
		return 503;
	if (rc != TD_STORE_OK || pat->kid != ref.kid || (key = td_keyring_find(ctx->keyring, ref.kid)) == NULL ||
	    td_pat_secret_hash(key, ref.secret, hash) != 0 ||
	    CRYPTO_memcmp(hash, pat->hash, sizeof(hash)) != 0)
		return 401;
	if (pat->expires_at != 0 && pat->expires_at <= (int64_t)time(NULL))
		return 401;
	memset(p, 0, sizeof(*p));
	p->pat_id = pat->id;
	p->all_spaces = pat->all_spaces;
	memcpy(p->spaces, pat->spaces, sizeof(int64_t) * (size_t)pat->nspaces);
	p->nspaces = pat->nspaces;
	p->scopes = pat->scopes;
	p->full = pat->full;
	snprintf(p->actor, sizeof(p->actor), "pat:%" PRId64, pat->id);
	return 0;
}

int
td_rate_limit(struct td_ctx *ctx, struct td_request *req, const struct td_principal *who,
	      int64_t space_id)
{
	struct td_rate rate;
	char n[24];

	if (td_store_rate_check(ctx->store, space_id, who->actor, ctx->cfg->rate_limit_requests,
				ctx->cfg->rate_limit_window_ms, &rate) != TD_STORE_OK)
		return 0;	/* no counter without Redis: the call itself will say why */
	snprintf(n, sizeof(n), "%lld", rate.limit);
	td_response_header(req, "X-RateLimit-Limit", n);
	snprintf(n, sizeof(n), "%lld", rate.remaining < 0 ? 0 : rate.remaining);
	td_response_header(req, "X-RateLimit-Remaining", n);
	req->rate_headers_set = 1;
	if (rate.allowed)
		return 0;
	/* whole seconds, at least 1: Storyblok's and SoftwareOne's clients read
	 * Retry-After, DatoCMS's X-RateLimit-Reset (seconds, not an epoch) */
	snprintf(n, sizeof(n), "%lld", (rate.retry_after_ms + 999) / 1000 < 1 ? 1
				       : (rate.retry_after_ms + 999) / 1000);
	td_response_header(req, "Retry-After", n);
	td_response_header(req, "X-RateLimit-Reset", n);
	td_respond_error(req, 429, "rate_limit_exceeded", NULL, "Too many requests");
	return -1;
}

int
td_auth_require(struct td_ctx *ctx, struct td_request *req, struct td_principal *p,
		unsigned scope, int64_t space_id)
{
	int status = td_auth_identify(ctx, req, p);

	if (status == 503) {
		td_respond_error(req, 503, "service_unavailable", NULL, "storage unavailable");
		return -1;
	}
	if (status != 0) {
		td_respond_error(req, 401, "unauthorized", NULL, "Unauthorized");
		return -1;
	}
	if ((p->scopes & scope) != scope || (space_id > 0 && !td_principal_has_space(p, space_id))) {
		td_respond_error(req, 403, "forbidden", NULL,
				 "this token may not do that here");
		return -1;
	}
	return td_rate_limit(ctx, req, p, space_id);
}
