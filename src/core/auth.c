/*
 * Who is calling the management API. The credential is a personal access
 * token, or a space token with the management right (acting with its
 * role's and modules' scopes, in its own space only). Missing, malformed,
 * forged, unknown, revoked or expired: TD_ERR_UNAUTHENTICATED, with no
 * Redis I/O for a string whose tag does not verify.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "tokend/core/auth.h"
#include "tokend/core/rules.h"
#include "tokend/store/store.h"

static int
expired(int64_t expires_at)
{
	return expires_at != 0 && expires_at <= (int64_t)time(NULL);
}

/* A space token: current value, active, not expired, with the management right. */
static int
identify_token(struct td_ctx *ctx, const struct td_token_ref *ref, struct td_principal *p)
{
	struct td_token *t = &ctx->auth_token;
	int rc, mc;

	rc = td_store_token_get(ctx->store, ref->space_id, ref->id, t, &mc);
	if (rc < 0)
		return TD_ERR_UNAVAILABLE;
	if (rc != TD_STORE_OK || t->kid != ref->kid || t->signed_kind != ref->kind ||
	    CRYPTO_memcmp(t->secret, ref->secret, TD_SECRET_BYTES) != 0 ||
	    t->status != TD_STATUS_ACTIVE || !td_rule_is_management(t) || expired(t->expires_at))
		return TD_ERR_UNAUTHENTICATED;
	memset(p, 0, offsetof(struct td_principal, spaces));
	p->kind = TD_CRED_TOKEN;
	p->token_id = t->id;
	p->role_id = t->role_id;
	p->spaces[0] = t->space_id;
	p->nspaces = 1;
	p->scopes = td_rule_token_scopes(t);
	p->expires_at = t->expires_at;
	snprintf(p->actor, sizeof(p->actor), "token:%" PRId64, t->id);
	snprintf(p->ref, sizeof(p->ref), "t:%" PRId64 ":%" PRId64, t->space_id, t->id);
	return TD_OK;
}

static int
identify_pat(struct td_ctx *ctx, const struct td_token_ref *ref, struct td_principal *p)
{
	unsigned char hash[TD_PAT_HASH_BYTES];
	struct td_pat *pat = &ctx->scratch_pat;
	const struct td_key *key;
	int rc;

	rc = td_store_pat_get(ctx->store, ref->id, pat);
	if (rc < 0)
		return TD_ERR_UNAVAILABLE;
	if (rc != TD_STORE_OK || pat->kid != ref->kid ||
	    (key = td_keyring_find(ctx->keyring, ref->kid)) == NULL ||
	    td_pat_secret_hash(key, ref->secret, hash) != 0 ||
	    CRYPTO_memcmp(hash, pat->hash, sizeof(hash)) != 0 || expired(pat->expires_at))
		return TD_ERR_UNAUTHENTICATED;
	memset(p, 0, offsetof(struct td_principal, spaces));
	p->kind = TD_CRED_PAT;
	p->pat_id = pat->id;
	p->all_spaces = pat->all_spaces;
	memcpy(p->spaces, pat->spaces, sizeof(int64_t) * (size_t)pat->nspaces);
	p->nspaces = pat->nspaces;
	p->scopes = pat->scopes;
	p->full = pat->full;
	p->expires_at = pat->expires_at;
	snprintf(p->actor, sizeof(p->actor), "pat:%" PRId64, pat->id);
	snprintf(p->ref, sizeof(p->ref), "p:%" PRId64, pat->id);
	return TD_OK;
}

int
td_core_identify(struct td_ctx *ctx, const char *credential, size_t len, struct td_principal *p)
{
	struct td_token_ref ref;
	int rc;

	if (credential == NULL || len == 0 ||
	    td_token_parse(ctx->keyring, credential, len, &ref) != TD_TOKEN_OK)
		return TD_ERR_UNAUTHENTICATED;
	rc = ref.kind == TD_KIND_PAT ? identify_pat(ctx, &ref, p) : identify_token(ctx, &ref, p);
	OPENSSL_cleanse(ref.secret, sizeof(ref.secret));
	return rc;
}

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
