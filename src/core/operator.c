/*
 * The operator at the host's command line (tokend pat list, keys retire).
 * Whoever can read the keyring and reach Redis already holds every
 * credential's power, so the CLI acts as a principal above them all: full
 * permission in every space, recorded as actor "cli" in the trails, never
 * rate-limited, with no maker (nothing it mints hangs from it).
 */
#include <stdlib.h>
#include <string.h>

#include "tokend/core/internal.h"
#include "tokend/store/store.h"

int
td_core_begin_operator(struct td_ctx *ctx, struct td_call *c, enum td_op op)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->op = op;
	c->resource = "token";
	c->who.kind = TD_CRED_PAT;
	c->who.all_spaces = 1;
	c->who.full = 1;
	c->who.scopes = TD_SCOPE_ALL;
	memcpy(c->who.actor, "cli", sizeof("cli"));
	return TD_OK;
}

struct space_ids {
	int64_t *ids;
	size_t n, cap;
};

static int
collect_space(const struct td_space *sp, void *arg)
{
	struct space_ids *s = arg;
	int64_t *grown;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((grown = realloc(s->ids, s->cap * sizeof(*s->ids))) == NULL)
			return -1;
		s->ids = grown;
	}
	s->ids[s->n++] = sp->id;
	return 0;
}

struct usage_ctx {
	struct td_key_usage *u;
	int n;
};

static struct td_key_usage *
usage_of(struct usage_ctx *uc, uint32_t kid)
{
	int i;

	for (i = 0; i < uc->n; i++)
		if (uc->u[i].kid == kid)
			return &uc->u[i];
	return NULL;
}

static int
count_token(const struct td_token *t, int space_min_cache, void *arg)
{
	struct td_key_usage *u = usage_of(arg, t->kid);

	(void)space_min_cache;
	if (u != NULL)
		u->tokens++;
	return 0;
}

static int
count_pat(const struct td_pat *p, void *arg)
{
	struct td_key_usage *u = usage_of(arg, p->kid);

	if (u != NULL)
		u->pats++;
	return 0;
}

/* Space ids are read first and the tokens after: a store callback must not
 * issue commands of its own while its reply is being walked. */
int
td_core_key_usage(struct td_ctx *ctx, struct td_key_usage *u, int n)
{
	struct usage_ctx uc = { u, n };
	struct space_ids spaces = { NULL, 0, 0 };
	size_t i;
	int rc = TD_ERR_UNAVAILABLE;

	for (i = 0; i < (size_t)n; i++)
		u[i].tokens = u[i].pats = 0;
	if (td_store_space_list(ctx->store, collect_space, &spaces) != TD_STORE_OK)
		goto done;
	for (i = 0; i < spaces.n; i++) {
		rc = td_store_token_list(ctx->store, spaces.ids[i], count_token, &uc);
		if (rc != TD_STORE_OK && rc != TD_STORE_NOT_FOUND) {	/* deleted meanwhile */
			rc = TD_ERR_UNAVAILABLE;
			goto done;
		}
	}
	rc = TD_ERR_UNAVAILABLE;
	if (td_store_pat_list(ctx->store, count_pat, &uc) != TD_STORE_OK)
		goto done;
	rc = TD_OK;
done:
	free(spaces.ids);
	return rc;
}
