/*
 * The rules as pure functions of a principal and a record: no I/O, so each
 * has a unit test of its own (tests/unit/test_core_rules.c) and the service
 * layer only strings them together.
 */
#ifndef TOKEND_CORE_RULES_H
#define TOKEND_CORE_RULES_H

#include <stdint.h>

#include "tokend/core/core.h"

/* The management scopes a token grants its bearer: none without the
 * management right; else its role's and its modules'. */
unsigned td_rule_token_scopes(const struct td_token *t);

/* Whether who may act in space_id at all. */
int td_rule_reaches(const struct td_principal *who, int64_t space_id);

/* Whether who holds every bit of scope. */
int td_rule_holds(const struct td_principal *who, unsigned scope);

/* Whether t grants nothing who lacks: a delivery-only token always; a
 * management token when its scopes are within who's, it expires no
 * later than who (an expiring caller would otherwise take a lasting copy
 * of a credential, by reading or regenerating its value) and it is bound
 * within who's address ranges (td_rule_cidrs_within). Who may change or
 * see the value of only such tokens: anything else would let a lesser
 * credential take a greater one. */
int td_rule_token_within(const struct td_principal *who, const struct td_token *t);

/* Token values are shown to callers that may write tokens, for tokens
 * within their reach; never to read-only callers. */
int td_rule_may_see_value(const struct td_principal *who, const struct td_token *t);

/* Whether p reaches nothing who does not: spaces, scopes, full permission. */
int td_rule_pat_within(const struct td_principal *who, const struct td_pat *p);

/* Whether the record is the caller's own credential. */
int td_rule_is_self_token(const struct td_principal *who, const struct td_token *t);
int td_rule_is_self_pat(const struct td_principal *who, int64_t pat_id);

/* Whether the caller's access rests on the record: it is the caller, or a
 * maker above it (a minted credential works only while its makers do). A
 * credential cannot delete, disable, expire or demote what it rests on. */
int td_rule_upholds_caller_token(const struct td_principal *who, const struct td_token *t);
int td_rule_upholds_caller_pat(const struct td_principal *who, int64_t pat_id);

/* A credential made (or raised to management) by maker expires no later
 * than maker: none given inherits maker's expiry; a later one, or never
 * while maker expires, is refused (-1). */
int td_rule_bound_expiry(const struct td_principal *maker, int given, int64_t *expires_at);

/* Whether maker may mint: the credential it makes would have at most
 * TD_MINT_DEPTH_MAX makers above it. */
int td_rule_may_mint(const struct td_principal *maker);

/* Whether a management credential bound to cidrs may be used from no
 * address its maker may not: each range inside one of maker's. An unbound
 * maker bounds nothing; a bound one makes (or changes) no unbound one, else
 * the new credential would carry the maker's power past its binding. */
int td_rule_cidrs_within(const struct td_principal *maker, const struct td_cidr_list *cidrs);

/* Whether a token is a management credential (it can call the API). */
int td_rule_is_management(const struct td_token *t);

#endif
