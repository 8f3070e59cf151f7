/* Shared by the core's service files (the *_service.c files, call.c,
 * cascade.c) only: failing a call, the store's results as core errors, the
 * activity entry. Views never include this. */
#ifndef TOKEND_CORE_INTERNAL_H
#define TOKEND_CORE_INTERNAL_H

#include "tokend/core/core.h"

/* TD_OK when c was begun for op (each operation checks before acting). */
int td_core_expect(struct td_call *c, enum td_op op);

/* Sets c->err and returns code. */
int td_fail(struct td_call *c, enum td_core_err code, const char *field, const char *message);

/* A store result as a core error (OK stays 0). what names the record for 404s. */
int td_fail_store(struct td_call *c, int store_rc, const char *what);
/* The call's start (rate limiters, the space read) rides on the first
 * round trip of a create (its write) and of a call about one token (its
 * read), while c->start_pending: td_core_begin left it out.
 * td_call_start_along fills st for that store call (st->space is the
 * call's space record); td_call_started_along judges what came back as the
 * start would have (429 from a limiter, 404 for no such space) and ends
 * the pending. td_call_start_now takes it alone (after a store call that
 * carried it failed: the start's own fallbacks apply). */
struct td_rate_check;
struct td_store_start;
void td_call_start_along(struct td_call *c, struct td_rate_check *checks,
			 struct td_store_start *st);
int td_call_started_along(struct td_call *c, int store_rc, const struct td_store_start *st);
int td_call_start_now(struct td_call *c);

/* After conflict number attempt: whether to try again (after a short,
 * growing, jittered pause), or give up (409) past TD_CAS_ATTEMPTS. */
int td_cas_again(int attempt);

/* Appends "<resource>.<verb>" by the caller on resource_id to the space's
 * trail. The change already happened: a lost entry is logged, not fatal. */
void td_audit(struct td_call *c, int64_t space_id, const char *resource, const char *verb,
	      int64_t resource_id);

/* A space's own roles, read at most once per call (core/role_table.c). */
/* Forgets the table: at the start of a call, and after a role is written. */
void td_roles_forget(struct td_ctx *ctx);
/* The space's table (read now unless this call read it). 0 or
 * TD_ERR_UNAVAILABLE. */
int td_roles_load(struct td_ctx *ctx, int64_t space_id, const struct td_role_table **out);
/* The scopes role_id grants in space_id after inheritance (td_role_grants);
 * 0 for no role or one the space does not have. 0 or TD_ERR_UNAVAILABLE. */
int td_roles_scopes(struct td_ctx *ctx, int64_t space_id, int64_t role_id, unsigned *scopes);

/* Revokes every credential minted by parent_ref, and theirs in turn, each
 * recorded in its space's trail as "<resource>.revoke" by actor. */
int td_cascade_revoke(struct td_ctx *ctx, const char *parent_ref, const char *actor);

/* Forgets this worker's copy of token (space_id, id) (id 0: of every token
 * of the space): a deleted token's regeneration secrets are not kept. */
void td_token_copy_forget(struct td_ctx *ctx, int64_t space_id, int64_t id);

#endif
