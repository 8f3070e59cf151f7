/*
 * Revoking a credential revokes what it minted, and what those minted, as
 * Vault's token tree does. Each maker keeps an index of its children in its
 * own Redis slot (store: td_store_minted_*); children are registered before
 * they exist, so an interrupted create leaves at most a dangling entry.
 * The walk is iterative and bounded by TD_MINTED_MAX credentials. A walk cut
 * short leaves no live orphan either: a minted credential is also checked
 * at use against every maker above it (core/auth.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/core/cred_ref.h"
#include "tokend/core/internal.h"
#include "tokend/server/log.h"
#include "tokend/store/store.h"

/* A credential to visit and the maker whose index named it. */
struct edge {
	char ref[TD_CRED_REF_MAX];
	char parent[TD_CRED_REF_MAX];
};

struct walk {
	struct edge *stack;
	size_t n, cap;
	const char *parent;	/* while listing: the maker of what is pushed */
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
	snprintf(w->stack[w->n].ref, TD_CRED_REF_MAX, "%s", ref);
	snprintf(w->stack[w->n].parent, TD_CRED_REF_MAX, "%s", w->parent);
	w->n++;
	return 0;
}

/* Deletes the token e names if e's parent is still its maker: a token
 * raised to management again by another credential has moved to that
 * one's tree, and its old maker's index entry is stale. *revoked: 1 when
 * its subtree goes too. */
static int
revoke_token(struct td_ctx *ctx, struct walk *w, const struct edge *e,
	     const struct td_cred_ref *r, int *revoked)
{
	int rc, mc;

	rc = td_store_token_get(ctx->store, r->space_id, r->id, &w->token, &mc);
	if (rc == TD_STORE_NOT_FOUND) {
		*revoked = 1;	/* gone already: what it minted still goes */
		return TD_STORE_OK;
	}
	if (rc != TD_STORE_OK)
		return rc;
	if (strcmp(w->token.minted_by, e->parent) != 0)
		return TD_STORE_OK;
	rc = td_store_token_delete(ctx->store, r->space_id, r->id, &w->token);
	td_token_copy_forget(ctx, r->space_id, r->id);
	*revoked = rc == TD_STORE_OK || rc == TD_STORE_NOT_FOUND;
	return rc == TD_STORE_NOT_FOUND ? TD_STORE_OK : rc;
}

/* Revokes one minted credential and records it in its trail. */
static int
revoke_one(struct td_ctx *ctx, struct walk *w, const struct edge *e, const char *actor,
	   int *revoked)
{
	struct td_cred_ref r;
	const char *action;
	int64_t trail;
	int rc;

	*revoked = 0;
	if (td_cred_ref_parse(e->ref, strnlen(e->ref, TD_CRED_REF_MAX), &r) != 0) {
		td_log_error("cascade: malformed credential reference skipped");
		return TD_STORE_OK;
	}
	if (r.kind == 'p') {	/* a PAT's maker never changes */
		rc = td_store_pat_delete(ctx->store, r.id, &w->pat);
		*revoked = rc == TD_STORE_OK || rc == TD_STORE_NOT_FOUND;
		trail = TD_TRAIL_ACCOUNT;
		action = "pat.revoke";
	} else {
		rc = revoke_token(ctx, w, e, &r, revoked);
		trail = r.space_id;
		action = "token.revoke";
	}
	if (rc == TD_STORE_OK && *revoked &&
	    td_store_activity_add(ctx->store, trail, actor, action, r.id) != TD_STORE_OK)
		td_log_error("activity %s (trail %" PRId64 ") not recorded", action, trail);
	return rc < 0 ? rc : TD_STORE_OK;
}

int
td_cascade_revoke(struct td_ctx *ctx, const char *parent_ref, const char *actor)
{
	struct walk *w = malloc(sizeof(*w));
	struct edge e;
	size_t done = 0;
	int rc = TD_OK, revoked;

	if (w == NULL || (w->stack = malloc(sizeof(*w->stack) * TD_MINTED_MAX)) == NULL) {
		free(w);
		return TD_ERR_INTERNAL;
	}
	w->n = 0;
	w->cap = TD_MINTED_MAX;
	w->overflow = 0;
	w->parent = "";
	push(parent_ref, w);
	while (w->n > 0 && rc == TD_OK) {
		e = w->stack[--w->n];
		/* the first is the caller's own, already deleted */
		if (done++ > 0) {
			if (revoke_one(ctx, w, &e, actor, &revoked) != TD_STORE_OK) {
				rc = TD_ERR_UNAVAILABLE;
				break;
			}
			if (!revoked)
				continue;
		}
		w->parent = e.ref;
		if (td_store_minted_list(ctx->store, e.ref, push, w) != TD_STORE_OK ||
		    td_store_minted_drop(ctx->store, e.ref) != TD_STORE_OK)
			rc = TD_ERR_UNAVAILABLE;
		if (w->overflow || done > TD_MINTED_MAX) {
			td_log_error("cascade: more than %d minted credentials; the rest stay",
				     TD_MINTED_MAX);
			rc = TD_ERR_INTERNAL;
		}
	}
	free(w->stack);
	free(w);
	return rc;
}
