/*
 * Leak reports: a secret scanner (GitHub's credential revocation API) hands
 * in strings it found in public; each genuine credential among them is made
 * unusable at once, and the reporter is never told which were genuine.
 * No credential is needed, so this must never do Redis I/O for a string
 * whose tag does not verify (td_token_parse decides that with no I/O), and
 * never answer differently for genuine and forged strings.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/core/auth.h"
#include "tokend/core/cred_ref.h"
#include "tokend/core/internal.h"
#include "tokend/server/config.h"
#include "tokend/server/log.h"
#include "tokend/store/store.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The rate counter of leak reports lives under space 0, which never exists:
 * its "rl" override is never set, so leak_report_rate holds. */
#define LEAK_RATE_SPACE 0

/* "leak-report:<address>" into who->actor, the address in its canonical
 * spelling ("unknown" when there is none or it is no IP address), so one
 * client cannot spread its reports over several counters. */
static void
reporter(struct td_principal *who, const char *address)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];
	const char *shown = "unknown";

	if (address != NULL && strlen(address) < sizeof(text)) {
		if (inet_pton(AF_INET, address, bin) == 1 &&
		    inet_ntop(AF_INET, bin, text, sizeof(text)) != NULL)
			shown = text;
		else if (inet_pton(AF_INET6, address, bin) == 1 &&
			 inet_ntop(AF_INET6, bin, text, sizeof(text)) != NULL)
			shown = text;
	}
	snprintf(who->actor, sizeof(who->actor), "leak-report:%s", shown);
}

static int
rate_limit(struct td_call *c)
{
	const struct td_config *cfg = c->ctx->cfg;
	struct td_rate rate;
	int rc;

	rc = td_store_rate_check(c->ctx->store, LEAK_RATE_SPACE, c->who.actor, "rl",
				 cfg->leak_report_rate, TD_LEAK_REPORT_PERIOD_MS, &rate);
	if (rc != TD_STORE_OK)
		return td_fail_store(c, rc, NULL);
	c->rated = 1;
	c->rate_limit = rate.limit;
	c->rate_remaining = rate.remaining < 0 ? 0 : rate.remaining;
	c->retry_after_ms = rate.retry_after_ms;
	return rate.allowed ? TD_OK : td_fail(c, TD_ERR_RATE_LIMITED, NULL, "Too many requests");
}

/* A token whose current value ref is: disabled (stamped by actor), or, if
 * built in, given a new value; compare-and-set, re-read when another write
 * came in between. Anything else (gone, an old value, already disabled or
 * deleted) is left as it is. */
static int
leak_token(struct td_ctx *ctx, const struct td_token_ref *ref, const char *actor)
{
	struct td_token *t = &ctx->scratch_token;
	int rc, space_mc, attempt = 0;
	int64_t now;

	do {
		rc = td_store_token_get(ctx->store, ref->space_id, ref->id, t, &space_mc);
		if (rc != TD_STORE_OK)
			return rc == TD_STORE_NOT_FOUND ? TD_STORE_OK : rc;
		if (!td_auth_token_current(t, ref) || t->status != TD_STATUS_ACTIVE)
			return TD_STORE_OK;
		now = td_now_ms();
		if (t->hardcoded != TD_HARDCODED_NONE) {
			td_token_keep_previous(t, 0);	/* no grace for a leaked value */
			if (td_token_regenerate(t, ctx->keyring) != 0)
				return TD_STORE_DOWN;
		} else {
			t->status = TD_STATUS_DISABLED;
			t->disabled_at_ms = now;
			snprintf(t->disabled_by, sizeof(t->disabled_by), "%s", actor);
		}
		t->updated_at_ms = now;
		snprintf(t->updated_by, sizeof(t->updated_by), "%s", actor);
		rc = td_store_token_put(ctx->store, t, NULL, NULL);
	} while (rc == TD_STORE_CONFLICT && td_cas_again(++attempt));
	if (rc == TD_STORE_NOT_FOUND)
		return TD_STORE_OK;	/* deleted meanwhile: nothing left to disable */
	if (rc == TD_STORE_CONFLICT)
		rc = TD_STORE_DOWN;	/* kept changing: "try again" (503), as for a Redis fault */
	if (rc == TD_STORE_OK &&
	    td_store_activity_add(ctx->store, t->space_id, actor, "token.leak_reported", t->id) !=
	    TD_STORE_OK)
		td_log_error("activity token.leak_reported on space %" PRId64 " not recorded",
			     t->space_id);
	return rc;
}

/* A PAT whose current value ref is: revoked, and all it minted with it. */
static int
leak_pat(struct td_ctx *ctx, const struct td_token_ref *ref, const char *actor)
{
	struct td_pat *p = &ctx->scratch_pat;
	char cref[TD_CRED_REF_MAX];
	int rc;

	rc = td_store_pat_get(ctx->store, ref->id, p);
	if (rc != TD_STORE_OK)
		return rc == TD_STORE_NOT_FOUND ? TD_STORE_OK : rc;
	if (!td_auth_pat_current(ctx->keyring, p, ref))
		return TD_STORE_OK;
	rc = td_store_pat_delete(ctx->store, ref->id, p);
	if (rc != TD_STORE_OK)
		return rc == TD_STORE_NOT_FOUND ? TD_STORE_OK : rc;
	if (td_store_activity_add(ctx->store, TD_TRAIL_ACCOUNT, actor, "pat.leak_reported",
				  ref->id) != TD_STORE_OK)
		td_log_error("activity pat.leak_reported not recorded");
	td_cred_ref_pat(ref->id, cref);
	if (td_cascade_revoke(ctx, cref, actor) != TD_OK)
		td_log_error("pat %" PRId64 ": revoking what it minted did not finish", ref->id);
	return TD_STORE_OK;
}

int
td_core_leak_report(struct td_ctx *ctx, struct td_call *c, const char *address,
		    const struct td_leak_report *report)
{
	struct td_token_ref ref;
	size_t i;
	int rc = TD_STORE_OK;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->op = TD_OP__MAX;	/* no management operation: no scope, no space */
	if (report->n > TD_LEAK_CREDENTIALS_MAX)
		return td_fail(c, TD_ERR_INVALID, "credentials", "must be a list of at most "
			       STR(TD_LEAK_CREDENTIALS_MAX) " strings");
	for (i = 0; i < report->n; i++)
		if (report->creds[i].s == NULL || report->creds[i].len > TD_LEAK_CREDENTIAL_BYTES)
			return td_fail(c, TD_ERR_INVALID, "credentials", "must hold strings of at most "
				       STR(TD_LEAK_CREDENTIAL_BYTES) " bytes");
	reporter(&c->who, address);
	if (rate_limit(c) != TD_OK)
		return c->err.code;
	for (i = 0; i < report->n && rc == TD_STORE_OK; i++) {
		if (td_token_parse(ctx->keyring, report->creds[i].s, report->creds[i].len, &ref) !=
		    TD_TOKEN_OK)
			continue;	/* forged, mistyped or no token at all: no I/O */
		rc = ref.kind == TD_KIND_PAT ? leak_pat(ctx, &ref, c->who.actor)
					     : leak_token(ctx, &ref, c->who.actor);
		OPENSSL_cleanse(ref.secret, sizeof(ref.secret));
	}
	/* a genuine credential left usable (Redis failing, or a record that
	 * kept changing) must not pass for done: the reporter, who holds it
	 * and so learns nothing, sends the report again */
	return td_fail_store(c, rc, NULL);
}
