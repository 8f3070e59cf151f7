/*
 * The start of every management call, in one order for every view: who is
 * calling, which space, may it reach it with this scope, rate limit, does
 * the space exist. Then the operation (the *_service.c files).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "tokend/core/internal.h"
#include "tokend/core/rules.h"
#include "tokend/server/config.h"
#include "tokend/server/log.h"
#include "tokend/store/store.h"

int
td_fail(struct td_call *c, enum td_core_err code, const char *field, const char *message)
{
	c->err.code = code;
	c->err.field = field;
	c->err.message = message;
	return code;
}

int
td_fail_store(struct td_call *c, int store_rc, const char *what)
{
	switch (store_rc) {
	case TD_STORE_OK:
		return TD_OK;
	case TD_STORE_NOT_FOUND:
		return td_fail(c, TD_ERR_NOT_FOUND, NULL, what);
	case TD_STORE_EXISTS:
		return td_fail(c, TD_ERR_EXISTS, "id", "has already been taken");
	case TD_STORE_QUOTA:
		return td_fail(c, TD_ERR_QUOTA, NULL, "a limit of this space or credential is reached");
	case TD_STORE_DANGLING:
		return td_fail(c, TD_ERR_INVALID, NULL, "names a record that no longer exists");
	case TD_STORE_IN_USE:
		return td_fail(c, TD_ERR_IN_USE, NULL, "other records depend on it");
	case TD_STORE_TOO_LARGE:
		return td_fail(c, TD_ERR_INVALID, "base", "is too large to store: fewer or shorter "
			       "ids, a shorter description (limits.record_bytes)");
	case TD_STORE_CONFLICT:
		return td_fail(c, TD_ERR_CONFLICT, NULL,
			       "the record changed while this request ran; send it again");
	case TD_STORE_REFUSED:
		return td_fail(c, TD_ERR_REFUSED, NULL,
			       "storage refuses writes (Redis is out of memory or cannot persist)");
	default:
		return td_fail(c, TD_ERR_UNAVAILABLE, NULL, "storage unavailable");
	}
}

int
td_cas_again(int attempt)
{
	static unsigned seed;
	struct timespec pause = { 0, 0 };

	long step;

	if (attempt >= TD_CAS_ATTEMPTS)
		return 0;
	/* a short, doubling, jittered pause (0.1 ms, 0.2, 0.4 … capped at
	 * 20 ms: about 0.2 s in all): writers that met each other do not meet
	 * again in step, however slow each of their round trips is (rand_r:
	 * spreading, not secrecy) */
	if (seed == 0)
		seed = (unsigned)td_now_ms() ^ (unsigned)getpid();
	step = attempt < 8 ? 100000L << attempt : TD_CAS_PAUSE_MAX_NS;
	if (step > TD_CAS_PAUSE_MAX_NS)
		step = TD_CAS_PAUSE_MAX_NS;
	pause.tv_nsec = step / 2 + (long)(rand_r(&seed) % (unsigned)(step / 2 + 1));
	nanosleep(&pause, NULL);
	return 1;
}

void
td_audit(struct td_call *c, int64_t space_id, const char *resource, const char *verb,
	 int64_t resource_id)
{
	char action[48];

	snprintf(action, sizeof(action), "%s.%s", resource, verb);
	if (td_store_activity_add(c->ctx->store, space_id, c->who.actor, action, resource_id) !=
	    TD_STORE_OK)
		td_log_error("activity %s on space %" PRId64 " not recorded", action, space_id);
}

/* The scope each operation needs before anything else happens. A token's
 * own record is readable without TOKENS_READ (get checks that itself). */
static const unsigned op_scope[TD_OP__MAX] = {
	[TD_OP_TOKEN_LIST] = TD_SCOPE_TOKENS_READ,
	[TD_OP_TOKEN_GET] = 0,
	[TD_OP_TOKEN_CREATE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_TOKEN_UPDATE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_TOKEN_REGENERATE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_TOKEN_STATUS] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_TOKEN_DELETE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_SPACE_LIST] = TD_SCOPE_SPACES_READ,
	[TD_OP_SPACE_GET] = TD_SCOPE_SPACES_READ,
	[TD_OP_SPACE_CREATE] = TD_SCOPE_SPACES_WRITE,
	[TD_OP_SPACE_UPDATE] = TD_SCOPE_SPACES_WRITE,
	[TD_OP_SPACE_DELETE] = TD_SCOPE_SPACES_WRITE,
	[TD_OP_ACTIVITIES] = TD_SCOPE_AUDIT_READ,	/* a PAT's spaces:read, a role's
							   can_access_audit_log */
	[TD_OP_ACCOUNT_ACTIVITIES] = TD_SCOPE_SPACES_READ | TD_SCOPE_PATS_READ,
	[TD_OP_PAT_LIST] = TD_SCOPE_PATS_READ,
	[TD_OP_PAT_GET] = TD_SCOPE_PATS_READ,
	[TD_OP_PAT_CREATE] = TD_SCOPE_PATS_WRITE,
	[TD_OP_PAT_DELETE] = TD_SCOPE_PATS_WRITE,
	[TD_OP_ROLE_LIST] = TD_SCOPE_TOKENS_READ,
	[TD_OP_ROLE_GET] = TD_SCOPE_TOKENS_READ,
	/* who may write tokens may write roles (DatoCMS: can_manage_access_tokens) */
	[TD_OP_ROLE_CREATE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_ROLE_UPDATE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_ROLE_DELETE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_ROLE_DUPLICATE] = TD_SCOPE_TOKENS_WRITE,
	[TD_OP_MODULE_LIST] = 0,
	[TD_OP_WHOAMI] = 0,
};

/* The operations that write to their space (its shared write rate). */
static const unsigned char op_writes[TD_OP__MAX] = {
	[TD_OP_TOKEN_CREATE] = 1, [TD_OP_TOKEN_UPDATE] = 1, [TD_OP_TOKEN_REGENERATE] = 1,
	[TD_OP_TOKEN_STATUS] = 1, [TD_OP_TOKEN_DELETE] = 1, [TD_OP_SPACE_UPDATE] = 1,
	[TD_OP_ROLE_CREATE] = 1, [TD_OP_ROLE_UPDATE] = 1, [TD_OP_ROLE_DELETE] = 1,
	[TD_OP_ROLE_DUPLICATE] = 1,
};

int
td_core_expect(struct td_call *c, enum td_op op)
{
	/* an operation run under a call begun for another would skip its scope */
	return c->op == op ? TD_OK : td_fail(c, TD_ERR_INTERNAL, NULL, "call begun for another operation");
}

/* The one space a request names, from the header and the body's names:
 * 0 none, -1 an unreadable header, or the id; else the call fails. */
static int
named_space(struct td_call *c, const struct td_space_names *names, int64_t *named)
{
	if (names->body < 0)	/* TD_NAMED_MALFORMED */
		return td_fail(c, TD_ERR_INVALID, names->body_field,
			       names->body_form != NULL ? names->body_form : "does not name a space");
	if (names->body > 0 && names->header != 0 && names->header != names->body)
		return td_fail(c, TD_ERR_INVALID, names->body_field,
			       "names another space than X-Space-Id: name one, or the same in both");
	*named = names->body > 0 ? names->body : names->header;
	return TD_OK;
}

/* The space a call is about (see enum td_space_from). */
static int
resolve_space(struct td_call *c, enum td_space_from from, const struct td_space_names *names)
{
	const struct td_principal *who = &c->who;
	int64_t named = names->header;

	switch (from) {
	case TD_SPACE_NONE:
		c->space_id = 0;
		return TD_OK;
	case TD_SPACE_PATH:
		/* no space 0: a call about a space always loads that space */
		if (named <= 0)
			return td_fail(c, TD_ERR_NOT_FOUND, NULL, "This record could not be found");
		c->space_id = named;
		return TD_OK;
	case TD_SPACE_CALLER:
		if (named_space(c, names, &named) != TD_OK)
			return c->err.code;
		if (!who->all_spaces && who->nspaces == 1) {
			/* bound to one space: naming another is refused, not ignored */
			if (named != 0 && named != who->spaces[0])
				return td_fail(c, TD_ERR_FORBIDDEN, NULL,
					       "this credential belongs to another space");
			c->space_id = who->spaces[0];
			return TD_OK;
		}
		if (named <= 0)
			return td_fail(c, TD_ERR_SPACE_REQUIRED, names->body_field != NULL
				       ? names->body_field : "X-Space-Id", names->body_field != NULL
				       ? "this credential reaches several spaces: name one in the body "
					 "or in X-Space-Id"
				       : "this credential reaches several spaces: name one in X-Space-Id");
		c->space_id = named;
		return TD_OK;
	}
	return td_fail(c, TD_ERR_INTERNAL, NULL, "unknown space source");
}

/* The operations whose first round trip carries the call's start
 * (td_call_start_along): a create's write, the read of the token a call
 * is about. Their begin checks who and where, not yet the rate or the
 * space. */
static const unsigned char op_start_along[TD_OP__MAX] = {
	[TD_OP_TOKEN_CREATE] = 1, [TD_OP_TOKEN_GET] = 1, [TD_OP_TOKEN_UPDATE] = 1,
	[TD_OP_TOKEN_REGENERATE] = 1, [TD_OP_TOKEN_STATUS] = 1, [TD_OP_TOKEN_DELETE] = 1,
};

/* The caller's rate limit, and the space's shared write rate for a write
 * (whoever sends them: minting more callers does not multiply what a space
 * takes in): what a call's start takes. */
static void
start_checks(const struct td_call *c, struct td_rate_check checks[TD_RATE_CHECKS_MAX], int *n)
{
	const struct td_config *cfg = c->ctx->cfg;

	checks[0] = (struct td_rate_check){ c->who.actor, "rl", cfg->rate_limit_requests };
	checks[1] = (struct td_rate_check){ TD_RATE_SPACE_WRITES, "lw", cfg->space_write_rate };
	*n = c->space_id > 0 && op_writes[c->op] ? 2 : 1;
}

/* What the limiters said (rated: they answered): a refusal fails the call. */
static int
judge_rates(struct td_call *c, int rated, const struct td_rate rate[TD_RATE_CHECKS_MAX], int n)
{
	if (!rated)
		return TD_OK;
	c->rated = 1;
	c->rate_limit = rate[0].limit;
	c->rate_remaining = rate[0].remaining < 0 ? 0 : rate[0].remaining;
	c->retry_after_ms = rate[0].retry_after_ms;
	if (!rate[0].allowed)
		return td_fail(c, TD_ERR_RATE_LIMITED, NULL, "Too many requests");
	if (n > 1 && !rate[1].allowed) {
		c->retry_after_ms = rate[1].retry_after_ms;
		return td_fail(c, TD_ERR_RATE_LIMITED, NULL, "Too many writes to this space");
	}
	return TD_OK;
}

/* The rate limiters and the space record: one round trip. */
static int
start(struct td_call *c)
{
	struct td_space *sp = c->space_id > 0 ? &c->ctx->scratch_space : NULL;
	struct td_rate_check checks[TD_RATE_CHECKS_MAX];
	struct td_rate rate[TD_RATE_CHECKS_MAX];
	int rc, rated, n;

	start_checks(c, checks, &n);
	rc = td_store_call_start(c->ctx->store, c->space_id, c->ctx->cfg->rate_limit_window_ms,
				 checks, n, rate, sp);
	rated = rc == TD_STORE_OK || rc == TD_STORE_NOT_FOUND;
	/* no counter (a full Redis, a cluster slot half migrated): the call
	 * goes on with the space read alone, and fails only if that does */
	if (!rated && sp != NULL)
		rc = td_store_space_get(c->ctx->store, c->space_id, sp);
	if (rc != TD_STORE_OK && rc != TD_STORE_NOT_FOUND)	/* no counter without Redis */
		return sp != NULL ? td_fail_store(c, rc, NULL) : TD_OK;
	if (judge_rates(c, rated, rate, n) != TD_OK)
		return c->err.code;
	return rc == TD_STORE_NOT_FOUND ? td_fail_store(c, rc, "This record could not be found")
					: TD_OK;
}

int
td_call_start_now(struct td_call *c)
{
	c->start_pending = 0;
	return start(c);
}

int
td_core_settle_start(struct td_call *c)
{
	return c->start_pending ? td_call_start_now(c) : TD_OK;
}

void
td_call_start_along(struct td_call *c, struct td_rate_check *checks, struct td_store_start *st)
{
	memset(st, 0, sizeof(*st));
	st->period_ms = c->ctx->cfg->rate_limit_window_ms;
	st->checks = checks;
	st->space = &c->ctx->scratch_space;
	if (c->start_pending)	/* else taken already (td_call_start_now): the space only */
		start_checks(c, checks, &st->n);
}

int
td_call_started_along(struct td_call *c, int store_rc, const struct td_store_start *st)
{
	c->start_pending = 0;
	/* the limiters answered unless the store call failed as a whole */
	if (st->n > 0 && judge_rates(c, store_rc >= TD_STORE_OK, st->rates, st->n) != TD_OK)
		return c->err.code;
	if (store_rc >= TD_STORE_OK && !st->space_found)
		return td_fail_store(c, TD_STORE_NOT_FOUND, "This record could not be found");
	return TD_OK;
}

static int
begin(struct td_ctx *ctx, struct td_call *c, const char *credential, size_t len,
      const struct td_addr *client, enum td_op op, enum td_space_from from,
      const struct td_space_names *names)
{
	int rc;

	c->ctx = ctx;
	/* nothing of an earlier request's space may stand in for this one's */
	ctx->scratch_space.id = 0;
	td_roles_forget(ctx);
	c->op = op;
	c->space_id = 0;
	c->start_pending = 0;
	c->on_copy = c->copy_refused = c->mints = 0;
	c->rated = 0;
	c->err.code = TD_OK;
	c->err.field = c->err.message = NULL;
	if (c->resource == NULL)
		c->resource = "token";
	c->has_client = client != NULL;
	if (client != NULL)
		c->client = *client;
	rc = td_core_identify(ctx, credential, len, client, &c->who);
	if (rc == TD_ERR_UNAVAILABLE)
		return td_fail(c, rc, NULL, "storage unavailable");
	if (rc == TD_ERR_ADDRESS)
		return td_fail(c, rc, NULL, "this credential may not be used from this address "
			       "(allowed_cidrs)");
	if (rc != TD_OK)
		return td_fail(c, TD_ERR_UNAUTHENTICATED, NULL, "Unauthorized");
	memcpy(ctx->actor, c->who.actor, sizeof(ctx->actor));
	if ((rc = resolve_space(c, from, names)) != TD_OK)
		return rc;
	if ((c->space_id > 0 && !td_rule_reaches(&c->who, c->space_id)) ||
	    op < 0 || op >= TD_OP__MAX || !td_rule_holds(&c->who, op_scope[op]))
		return td_fail(c, TD_ERR_FORBIDDEN, NULL, "this credential may not do that here");
	if (op_start_along[op]) {
		c->start_pending = 1;
		return TD_OK;
	}
	return start(c);
}

int
td_core_begin(struct td_ctx *ctx, struct td_call *c, const char *credential, size_t len,
	      const struct td_addr *client, enum td_op op, enum td_space_from from, int64_t named)
{
	struct td_space_names names = { named, 0, NULL, NULL };

	return begin(ctx, c, credential, len, client, op, from, &names);
}

int
td_core_begin_named(struct td_ctx *ctx, struct td_call *c, const char *credential, size_t len,
		    const struct td_addr *client, enum td_op op,
		    const struct td_space_names *names)
{
	return begin(ctx, c, credential, len, client, op, TD_SPACE_CALLER, names);
}

int
td_core_may(const struct td_call *c, enum td_op op)
{
	if (op < 0 || op >= TD_OP__MAX || !td_rule_holds(&c->who, op_scope[op]))
		return 0;
	return !td_rule_needs_all_spaces(op) || c->who.all_spaces;
}

int
td_core_health(struct td_ctx *ctx)
{
	return td_store_ping(ctx->store);
}
