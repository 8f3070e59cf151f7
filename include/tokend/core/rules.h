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
 * management right; else its role's (role_scopes: what td_role_grants gives
 * its role's effective flags, 0 for no or an unknown role) and its modules'.
 * A role's flags live in its space, so the caller resolves them. */
unsigned td_rule_token_scopes(const struct td_token *t, unsigned role_scopes);

/* The scopes a PAT acts with: those it stores, and reading the audit trail
 * with spaces:read (which is what reading it took before roles had a flag
 * for it). */
unsigned td_rule_pat_scopes(const struct td_pat *p);

/* Whether who may act in space_id at all. */
int td_rule_reaches(const struct td_principal *who, int64_t space_id);

/* Whether who holds every bit of scope. */
int td_rule_holds(const struct td_principal *who, unsigned scope);

/* Whether op is about every space (creating one, the account's trail), so
 * only a credential for all spaces may run it: a space it made would be
 * out of its own reach, the account's trail is every space's. */
int td_rule_needs_all_spaces(enum td_op op);

/* Whether t grants nothing who lacks: a delivery-only token always; a
 * management token when its scopes are within who's, it expires no
 * later than who (an expiring caller would otherwise take a lasting copy
 * of a credential, by reading or regenerating its value) and it is bound
 * within who's address ranges (td_rule_cidrs_within). Who may change or
 * see the value of only such tokens: anything else would let a lesser
 * credential take a greater one. */
int td_rule_token_within(const struct td_principal *who, const struct td_token *t,
			 unsigned role_scopes);

/* Token values are shown to callers that may write tokens, for tokens
 * within their reach; never to read-only callers. */
int td_rule_may_see_value(const struct td_principal *who, const struct td_token *t,
			  unsigned role_scopes);

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

/* --- roles: a space's own roles as one table (role.h), sorted by id --- */

/* A role by id: built in, or the table's; NULL when neither knows it. */
const struct td_role_grant *td_rule_role_find(const struct td_role_table *tab, int64_t id);

/* A role's effective flags and environments: its own and those of every
 * role it inherits from, transitively (each counted once, cycles too; an
 * inherited id the table does not know adds nothing). */
void td_rule_role_effective(const struct td_role_table *tab, const struct td_role_grant *g,
			    unsigned *perms, int *env);

/* The same by id: 0, or -1 for a role neither built in nor in the table. */
int td_rule_role_perms(const struct td_role_table *tab, int64_t id, unsigned *perms, int *env);

/* Whether every role g inherits from is built in or in the table. */
int td_rule_role_inherits_known(const struct td_role_table *tab, const struct td_role_grant *g);

/* Whether role id inherits, through others, from itself. */
int td_rule_role_in_cycle(const struct td_role_table *tab, int64_t id);

/* Whether who may make the change that turns a space's roles from before
 * into after, about role rid (changed, or deleted: absent from after):
 * rid grants nothing who lacks, before or after, and neither does any role
 * whose grants the change moves (those inheriting from rid). A credential
 * touches no role above it, as it touches no token above it; and raising a
 * role within its own scopes cannot raise anyone past them. */
int td_rule_role_change_within(const struct td_principal *who, const struct td_role_table *before,
			       const struct td_role_table *after, int64_t rid);

/* Whether the change lowers what a role the caller rests on grants: its
 * own (a token's) or a maker token's, directly or through inheritance. A
 * credential cannot cut its own access, nor its makers'. */
int td_rule_role_change_cuts_caller(const struct td_principal *who,
				    const struct td_role_table *before,
				    const struct td_role_table *after);

#endif
