/*
 * Personal access tokens: list, get, create, delete. A PAT's value is shown
 * once, by create, and never again (only a keyed hash of its secret is
 * stored). A caller sees and grants only what is within its own reach; a
 * PAT made by a PAT records its maker, expires no later, and is revoked
 * with it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/core/cred_ref.h"
#include "tokend/core/internal.h"
#include "tokend/core/rules.h"
#include "tokend/server/log.h"
#include "tokend/store/store.h"

#define NOT_FOUND "This record could not be found"

struct list_ctx {
	const struct td_principal *who;
	td_core_pat_cb cb;
	void *arg;
};

static int
list_one(const struct td_pat *p, void *arg)
{
	struct list_ctx *l = arg;

	return td_rule_pat_within(l->who, p) ? l->cb(p, l->arg) : 0;
}

int
td_core_pat_list(struct td_call *c, td_core_pat_cb cb, void *arg)
{
	struct list_ctx l = { &c->who, cb, arg };

	if (td_core_expect(c, TD_OP_PAT_LIST) != TD_OK)
		return c->err.code;
	return td_fail_store(c, td_store_pat_list(c->ctx->store, list_one, &l), NOT_FOUND);
}

/* A PAT beyond the caller's reach does not exist for it. */
static int
load(struct td_call *c, int64_t id)
{
	struct td_pat *p = &c->ctx->scratch_pat;

	if (td_fail_store(c, td_store_pat_get(c->ctx->store, id, p), NOT_FOUND) != TD_OK)
		return c->err.code;
	if (!td_rule_pat_within(&c->who, p))
		return td_fail(c, TD_ERR_NOT_FOUND, NULL, NOT_FOUND);
	return TD_OK;
}

int
td_core_pat_get(struct td_call *c, int64_t id, const struct td_pat **out)
{
	if (td_core_expect(c, TD_OP_PAT_GET) != TD_OK || load(c, id) != TD_OK)
		return c->err.code;
	*out = &c->ctx->scratch_pat;
	return TD_OK;
}

/* Hashes a fresh secret under the newest key, stores p and writes its string. */
static int
issue(struct td_ctx *ctx, struct td_pat *p, char *value, size_t size)
{
	const struct td_key *key = td_keyring_newest(ctx->keyring);
	struct td_token_ref ref;
	int rc = TD_STORE_DOWN;

	if (key == NULL || td_token_new_secret(ref.secret) != 0 ||
	    td_pat_secret_hash(key, ref.secret, p->hash) != 0)
		goto done;
	p->kid = key->kid;
	p->created_at_ms = td_now_ms();
	if ((rc = td_store_pat_create(ctx->store, p, ctx->cfg->pats_per_owner)) != TD_STORE_OK)
		goto done;
	ref.kind = TD_KIND_PAT;
	ref.kid = key->kid;
	ref.space_id = 0;
	ref.id = p->id;
	if (td_token_format(ctx->keyring, &ref, value, size) != 0)
		rc = TD_STORE_DOWN;
done:
	OPENSSL_cleanse(ref.secret, sizeof(ref.secret));
	return rc;
}

int
td_core_pat_create(struct td_call *c, const struct td_pat_change *ch, const struct td_pat **out,
		   const char **value)
{
	struct td_pat *p = &c->ctx->scratch_pat;
	char ref[TD_CRED_REF_MAX];
	int rc;

	if (td_core_expect(c, TD_OP_PAT_CREATE) != TD_OK)
		return c->err.code;
	memset(p, 0, sizeof(*p));
	if (td_pat_apply_change(p, ch, &c->err) != 0)
		return c->err.code;
	if (!td_rule_pat_within(&c->who, p))
		return td_fail(c, TD_ERR_EXCEEDS, NULL, "a credential cannot grant more than it holds");
	if (!td_rule_cidrs_within(&c->who, &p->allowed_cidrs))
		return td_fail(c, TD_ERR_EXCEEDS, "allowed_cidrs", "must each lie within the "
			       "allowed_cidrs of the credential acting");
	if (!td_rule_may_mint(&c->who))
		return td_fail(c, TD_ERR_EXCEEDS, NULL,
			       "a credential this far down its chain of makers cannot mint another");
	if (td_rule_bound_expiry(&c->who, ch->has_expires && ch->expires_at.s != NULL,
				 &p->expires_at) != 0)
		return td_fail(c, TD_ERR_EXCEEDS, "expires_at",
			       "cannot be later than the expiry of the credential acting");
	memcpy(p->created_by, c->who.actor, sizeof(p->created_by));
	snprintf(p->minted_by, sizeof(p->minted_by), "%s", c->who.ref);
	if (td_fail_store(c, td_store_pat_next_id(c->ctx->store, &p->id), NOT_FOUND) != TD_OK)
		return c->err.code;
	td_cred_ref_pat(p->id, ref);
	if (td_fail_store(c, td_store_minted_add(c->ctx->store, p->minted_by, ref), NOT_FOUND) !=
	    TD_OK)
		return c->err.code;
	if ((rc = issue(c->ctx, p, c->value, sizeof(c->value))) == TD_STORE_QUOTA)
		return td_fail(c, TD_ERR_QUOTA, "base", "this credential has made the most personal "
			       "access tokens it may (pats_per_owner)");
	if (td_fail_store(c, rc, NOT_FOUND) != TD_OK)
		return c->err.code;
	td_audit(c, TD_TRAIL_ACCOUNT, "pat", "create", p->id);
	*out = p;
	*value = c->value;
	return TD_OK;
}

int
td_core_pat_delete(struct td_call *c, int64_t id, const struct td_pat **out)
{
	char ref[TD_CRED_REF_MAX];

	if (td_core_expect(c, TD_OP_PAT_DELETE) != TD_OK || load(c, id) != TD_OK)
		return c->err.code;
	if (td_rule_upholds_caller_pat(&c->who, id))
		return td_fail(c, TD_ERR_SELF, c->resource, "a credential cannot delete itself "
			       "or the credential that made it");
	if (td_fail_store(c, td_store_pat_delete(c->ctx->store, id, &c->ctx->scratch_pat),
			  NOT_FOUND) != TD_OK)
		return c->err.code;
	td_audit(c, TD_TRAIL_ACCOUNT, "pat", "delete", id);
	td_cred_ref_pat(id, ref);
	if (td_cascade_revoke(c->ctx, ref, c->who.actor) != TD_OK)
		td_log_error("pat %" PRId64 ": revoking what it minted did not finish", id);
	*out = &c->ctx->scratch_pat;
	return TD_OK;
}

int
td_core_pat_issue_root(struct td_ctx *ctx, struct td_pat *p, char *value, size_t size)
{
	p->minted_by[0] = '\0';
	return issue(ctx, p, value, size) == TD_STORE_OK ? TD_OK : TD_ERR_UNAVAILABLE;
}
