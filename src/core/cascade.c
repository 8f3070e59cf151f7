/*
 * Revoking a credential revokes what it minted, and what those minted, as
 * Vault's token tree does. Each maker keeps an index of its children in its
 * own Redis slot (store: td_store_minted_*); children are registered before
 * they exist, so an interrupted create leaves at most a dangling entry.
 * The walk is iterative and bounded by TD_MINTED_MAX credentials.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/core/internal.h"
#include "tokend/server/log.h"
#include "tokend/server/parse.h"
#include "tokend/store/store.h"

struct walk {
	char (*refs)[TD_CRED_REF_MAX];
	size_t n, cap;
	int overflow;
	/* records deleted here: never the caller's scratch, which holds the
	 * record its view renders */
	struct td_token token;
	struct td_pat pat;
};

static int
push(const char *ref, void *arg)
{
	struct walk *w = arg;

	if (w->n == w->cap) {
		w->overflow = 1;
		return 0;
	}
	snprintf(w->refs[w->n++], TD_CRED_REF_MAX, "%s", ref);
	return 0;
}

/* "t:<space>:<id>" or "p:<id>" into its parts; -1 for anything else. */
static int
parse_ref(const char *ref, int *is_pat, int64_t *space, int64_t *id)
{
	const char *colon;
	long long a, b;

	if (strncmp(ref, "p:", 2) == 0) {
		*is_pat = 1;
		*space = 0;
		if (td_parse_int64(ref + 2, strlen(ref + 2), 1, INT64_MAX, &a) != 0)
			return -1;
		*id = a;
		return 0;
	}
	if (strncmp(ref, "t:", 2) != 0 || (colon = strchr(ref + 2, ':')) == NULL ||
	    td_parse_int64(ref + 2, (size_t)(colon - ref - 2), 1, INT64_MAX, &a) != 0 ||
	    td_parse_int64(colon + 1, strlen(colon + 1), 1, INT64_MAX, &b) != 0)
		return -1;
	*is_pat = 0;
	*space = a;
	*id = b;
	return 0;
}

/* Deletes one minted credential and records it. */
static int
revoke_one(struct td_ctx *ctx, struct walk *w, const char *ref, const char *actor)
{
	int64_t space, id;
	int is_pat, rc;

	if (parse_ref(ref, &is_pat, &space, &id) != 0) {
		td_log_error("cascade: malformed credential reference skipped");
		return TD_STORE_OK;
	}
	if (is_pat)
		return td_store_pat_delete(ctx->store, id, &w->pat) == TD_STORE_DOWN
		       ? TD_STORE_DOWN : TD_STORE_OK;
	rc = td_store_token_delete(ctx->store, space, id, &w->token);
	if (rc == TD_STORE_OK &&
	    td_store_activity_add(ctx->store, space, actor, "token.revoke", id) != TD_STORE_OK)
		td_log_error("activity token.revoke on space %" PRId64 " not recorded", space);
	return rc < 0 ? rc : TD_STORE_OK;
}

int
td_cascade_revoke(struct td_ctx *ctx, const char *parent_ref, const char *actor)
{
	struct walk *w = malloc(sizeof(*w));
	char ref[TD_CRED_REF_MAX];
	size_t done = 0;
	int rc = TD_OK;

	if (w == NULL || (w->refs = malloc(sizeof(*w->refs) * TD_MINTED_MAX)) == NULL) {
		free(w);
		return TD_ERR_INTERNAL;
	}
	w->n = 0;
	w->cap = TD_MINTED_MAX;
	w->overflow = 0;
	push(parent_ref, w);
	while (w->n > 0 && rc == TD_OK) {
		snprintf(ref, sizeof(ref), "%s", w->refs[--w->n]);
		if (td_store_minted_list(ctx->store, ref, push, w) != TD_STORE_OK) {
			rc = TD_ERR_UNAVAILABLE;
			break;
		}
		/* the first is the caller's own, already deleted */
		if (done++ > 0 && revoke_one(ctx, w, ref, actor) != TD_STORE_OK)
			rc = TD_ERR_UNAVAILABLE;
		else if (td_store_minted_drop(ctx->store, ref) != TD_STORE_OK)
			rc = TD_ERR_UNAVAILABLE;
		if (w->overflow || done > TD_MINTED_MAX) {
			td_log_error("cascade: more than %d minted credentials; the rest stay",
				     TD_MINTED_MAX);
			rc = TD_ERR_INTERNAL;
		}
	}
	free(w->refs);
	free(w);
	return rc;
}
