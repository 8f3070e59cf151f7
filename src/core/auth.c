/*
 * Who is calling the management API. The credential is a personal access
 * token, or a space token with the management right (acting with its
 * role's and modules' scopes, in its own space only). Missing, malformed,
 * forged, unknown, revoked or expired: TD_ERR_UNAUTHENTICATED, with no
 * Redis I/O for a string whose tag does not verify. A minted credential
 * works only while every credential above it works. A credential bound to
 * address ranges (allowed_cidrs), or minted by one, is refused
 * (TD_ERR_ADDRESS) from any other address: the one place management
 * checks where a call comes from.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "tokend/core/auth.h"
#include "tokend/core/cred_ref.h"
#include "tokend/core/internal.h"
#include "tokend/core/record_cache.h"
#include "tokend/core/rules.h"
#include "tokend/store/store.h"

static int
expired(int64_t expires_at)
{
	return expires_at != 0 && expires_at <= (int64_t)time(NULL);
}

/* A space token acts while it is active, unexpired and a management token. */
static int
token_acts(const struct td_token *t)
{
	return t->status == TD_STATUS_ACTIVE && td_rule_is_management(t) && !expired(t->expires_at);
}

/* Whether a credential bound to l may act from client; a refusal is
 * TD_ERR_ADDRESS (403: the credential is good, the place is not). */
static int
from_allowed(const struct td_cidr_list *l, const struct td_addr *client)
{
	return td_cidr_allows(l->r, l->n, client) ? TD_OK : TD_ERR_ADDRESS;
}

/* PAT id into out: from the worker's PAT cache when it holds it and
 * tracking vouches for it (no round trip), else read, tracked, and cached. */
static int
pat_load(struct td_ctx *ctx, int64_t id, struct td_pat *out)
{
	const void *cached;
	int rc, tracked = 0;
	int cache = ctx->pat_cache != NULL && td_store_tracking_sync(ctx->store);

	if (cache && td_record_cache_get(ctx->pat_cache, 0, id, &cached)) {
		if (cached == NULL)
			return TD_STORE_NOT_FOUND;
		*out = *(const struct td_pat *)cached;
		return TD_STORE_OK;
	}
	if (!cache)
		return td_store_pat_get(ctx->store, id, out);
	rc = td_store_pat_get_tracked(ctx->store, id, out, &tracked);
	if (tracked && (rc == TD_STORE_OK || rc == TD_STORE_NOT_FOUND))
		td_record_cache_put(ctx->pat_cache, 0, id, rc == TD_STORE_OK ? out : NULL);
	return rc;
}

/*
 * The revocation cascade deletes what a credential minted, but it can be
 * cut short (Redis gone half way, TD_MINTED_MAX reached). So a minted
 * credential is checked at use as well: each maker above it must still
 * exist and act, from this address too (a maker whose ranges were narrowed
 * after it minted binds what it minted at once). One read per maker, at
 * most TD_MINT_DEPTH_MAX (minting deeper is refused, see td_rule_may_mint);
 * the records read land in the identify scratch, whose caller's fields are
 * already copied into p.
 */
static int
makers_act(struct td_ctx *ctx, const char *minted_by, const struct td_addr *client,
	   struct td_principal *p)
{
	const struct td_cidr_list *bound = NULL;
	char ref[TD_CRED_REF_MAX];
	struct td_cred_ref r;
	int rc, mc;

	snprintf(ref, sizeof(ref), "%s", minted_by);
	for (p->depth = 0; ref[0] != '\0'; p->depth++) {
		if (p->depth == TD_MINT_DEPTH_MAX ||
		    td_cred_ref_parse(ref, strlen(ref), &r) != 0)
			return TD_ERR_UNAUTHENTICATED;
		p->makers[p->depth] = r;
		p->maker_roles[p->depth] = 0;
		if (r.kind == 'p') {
			rc = pat_load(ctx, r.id, &ctx->scratch_pat);
			if (rc == TD_STORE_OK && expired(ctx->scratch_pat.expires_at))
				rc = TD_STORE_NOT_FOUND;
			if (rc == TD_STORE_OK) {
				snprintf(ref, sizeof(ref), "%s", ctx->scratch_pat.minted_by);
				bound = &ctx->scratch_pat.allowed_cidrs;
			}
		} else {
			rc = td_store_token_get(ctx->store, r.space_id, r.id, &ctx->auth_token, &mc);
			if (rc == TD_STORE_OK && !token_acts(&ctx->auth_token))
				rc = TD_STORE_NOT_FOUND;
			if (rc == TD_STORE_OK) {
				snprintf(ref, sizeof(ref), "%s", ctx->auth_token.minted_by);
				bound = &ctx->auth_token.allowed_cidrs;
				p->maker_roles[p->depth] = ctx->auth_token.role_id;
			}
		}
		if (rc < 0)
			return TD_ERR_UNAVAILABLE;
		if (rc != TD_STORE_OK)
			return TD_ERR_UNAUTHENTICATED;
		if (from_allowed(bound, client) != TD_OK)
			return TD_ERR_ADDRESS;
	}
	return TD_OK;
}

/* p's own binding, before its makers are read into the same scratch. */
static void
bind_principal(struct td_principal *p, const struct td_cidr_list *l)
{
	p->cidrs.n = l->n;
	memcpy(p->cidrs.r, l->r, sizeof(l->r[0]) * (size_t)l->n);
}

int
td_auth_token_current(const struct td_token *t, const struct td_token_ref *ref)
{
	return td_token_accepts(t, ref);
}

int
td_auth_pat_current(const struct td_keyring *kr, const struct td_pat *p,
		    const struct td_token_ref *ref)
{
	unsigned char hash[TD_PAT_HASH_BYTES];
	const struct td_key *key;
	int ok;

	ok = p->kid == ref->kid && (key = td_keyring_find(kr, ref->kid)) != NULL &&
	     td_pat_secret_hash(key, ref->secret, hash) == 0 &&
	     CRYPTO_memcmp(hash, p->hash, sizeof(hash)) == 0;
	OPENSSL_cleanse(hash, sizeof(hash));
	return ok;
}

/* A space token: current value, active, not expired, with the management
 * right, used from where it may be (and its makers may); it acts with what
 * its role grants now (a role above the built-ins read from its space) and
 * its modules. */
static int
identify_token(struct td_ctx *ctx, const struct td_token_ref *ref, const struct td_addr *client,
	       struct td_principal *p)
{
	struct td_token *t = &ctx->auth_token;
	unsigned role_scopes;
	int rc, mc;

	rc = td_store_token_get(ctx->store, ref->space_id, ref->id, t, &mc);
	if (rc < 0)
		return TD_ERR_UNAVAILABLE;
	if (rc != TD_STORE_OK || !td_auth_token_current(t, ref) || !token_acts(t))
		return TD_ERR_UNAUTHENTICATED;
	if (td_roles_scopes(ctx, t->space_id, t->role_id, &role_scopes) != TD_OK)
		return TD_ERR_UNAVAILABLE;
	memset(p, 0, offsetof(struct td_principal, spaces));
	p->kind = TD_CRED_TOKEN;
	p->token_id = t->id;
	p->role_id = t->role_id;
	p->spaces[0] = t->space_id;
	p->nspaces = 1;
	p->scopes = td_rule_token_scopes(t, role_scopes);
	p->expires_at = t->expires_at;
	snprintf(p->actor, sizeof(p->actor), "token:%" PRId64, t->id);
	td_cred_ref_token(t->space_id, t->id, p->ref);
	bind_principal(p, &t->allowed_cidrs);
	if (from_allowed(&p->cidrs, client) != TD_OK)
		return TD_ERR_ADDRESS;
	return makers_act(ctx, t->minted_by, client, p);
}

static int
identify_pat(struct td_ctx *ctx, const struct td_token_ref *ref, const struct td_addr *client,
	     struct td_principal *p)
{
	struct td_pat *pat = &ctx->scratch_pat;
	int rc;

	rc = pat_load(ctx, ref->id, pat);
	if (rc < 0)
		return TD_ERR_UNAVAILABLE;
	if (rc != TD_STORE_OK || !td_auth_pat_current(ctx->keyring, pat, ref) ||
	    expired(pat->expires_at))
		return TD_ERR_UNAUTHENTICATED;
	memset(p, 0, offsetof(struct td_principal, spaces));
	p->kind = TD_CRED_PAT;
	p->pat_id = pat->id;
	p->all_spaces = pat->all_spaces;
	memcpy(p->spaces, pat->spaces, sizeof(int64_t) * (size_t)pat->nspaces);
	p->nspaces = pat->nspaces;
	p->scopes = td_rule_pat_scopes(pat);
	p->full = pat->full;
	p->expires_at = pat->expires_at;
	snprintf(p->actor, sizeof(p->actor), "pat:%" PRId64, pat->id);
	td_cred_ref_pat(pat->id, p->ref);
	bind_principal(p, &pat->allowed_cidrs);
	if (from_allowed(&p->cidrs, client) != TD_OK)
		return TD_ERR_ADDRESS;
	return makers_act(ctx, pat->minted_by, client, p);
}

int
td_core_identify(struct td_ctx *ctx, const char *credential, size_t len,
		 const struct td_addr *client, struct td_principal *p)
{
	struct td_token_ref ref;
	int rc;

	if (credential == NULL || len == 0 ||
	    td_token_parse(ctx->keyring, credential, len, &ref) != TD_TOKEN_OK)
		return TD_ERR_UNAUTHENTICATED;
	rc = ref.kind == TD_KIND_PAT ? identify_pat(ctx, &ref, client, p)
				     : identify_token(ctx, &ref, client, p);
	if (rc == TD_OK && ctx->last_use != NULL)
		td_last_use_note(ctx->last_use, ref.kind == TD_KIND_PAT ? 0 : ref.space_id, ref.id,
				 td_now_ms());
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
