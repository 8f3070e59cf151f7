/* The rules, as pure functions (see rules.h). */
#include <string.h>

#include "tokend/core/module.h"
#include "tokend/core/role.h"
#include "tokend/core/rules.h"

int
td_rule_is_management(const struct td_token *t)
{
	return (t->rights & TD_RIGHT_CMA) != 0;
}

unsigned
td_rule_token_scopes(const struct td_token *t)
{
	if (!td_rule_is_management(t))
		return 0;
	return td_role_scopes(td_role_find(t->role_id)) | td_module_scopes(t->modules, t->nmodules);
}

int
td_rule_reaches(const struct td_principal *who, int64_t space_id)
{
	int i;

	if (who->all_spaces)
		return 1;
	for (i = 0; i < who->nspaces; i++)
		if (who->spaces[i] == space_id)
			return 1;
	return 0;
}

int
td_rule_holds(const struct td_principal *who, unsigned scope)
{
	return (who->scopes & scope) == scope;
}

int
td_rule_token_within(const struct td_principal *who, const struct td_token *t)
{
	if (!td_rule_is_management(t))
		return 1;	/* delivery only: grants no management */
	/* nor outlives the caller: else its value is a lasting copy of a
	 * credential that expires */
	if (who->expires_at != 0 && (t->expires_at == 0 || t->expires_at > who->expires_at))
		return 0;
	/* nor is usable from where the caller is not */
	if (!td_rule_cidrs_within(who, &t->allowed_cidrs))
		return 0;
	return (td_rule_token_scopes(t) & ~who->scopes) == 0;
}

int
td_rule_may_see_value(const struct td_principal *who, const struct td_token *t)
{
	return td_rule_holds(who, TD_SCOPE_TOKENS_WRITE) && td_rule_reaches(who, t->space_id) &&
	       td_rule_token_within(who, t);
}

int
td_rule_pat_within(const struct td_principal *who, const struct td_pat *p)
{
	int i;

	if (who->full)
		return 1;
	if (p->full || (p->scopes & ~who->scopes) != 0 || (p->all_spaces && !who->all_spaces))
		return 0;
	for (i = 0; i < p->nspaces; i++)
		if (!td_rule_reaches(who, p->spaces[i]))
			return 0;
	return 1;
}

int
td_rule_is_self_token(const struct td_principal *who, const struct td_token *t)
{
	return who->kind == TD_CRED_TOKEN && who->token_id == t->id &&
	       who->nspaces == 1 && who->spaces[0] == t->space_id;
}

int
td_rule_is_self_pat(const struct td_principal *who, int64_t pat_id)
{
	return who->kind == TD_CRED_PAT && who->pat_id == pat_id;
}

int
td_rule_bound_expiry(const struct td_principal *maker, int given, int64_t *expires_at)
{
	if (maker->expires_at == 0)
		return 0;
	if (!given) {
		if (*expires_at == 0 || *expires_at > maker->expires_at)
			*expires_at = maker->expires_at;
		return 0;
	}
	return *expires_at != 0 && *expires_at <= maker->expires_at ? 0 : -1;
}

int
td_rule_may_mint(const struct td_principal *maker)
{
	return maker->depth < TD_MINT_DEPTH_MAX;
}

int
td_rule_cidrs_within(const struct td_principal *maker, const struct td_cidr_list *cidrs)
{
	return td_cidr_list_within(cidrs, &maker->cidrs);
}

int
td_rule_upholds_caller_token(const struct td_principal *who, const struct td_token *t)
{
	int i;

	if (td_rule_is_self_token(who, t))
		return 1;
	for (i = 0; i < who->depth && i < TD_MINT_DEPTH_MAX; i++)
		if (who->makers[i].kind == 't' && who->makers[i].id == t->id &&
		    who->makers[i].space_id == t->space_id)
			return 1;
	return 0;
}

int
td_rule_upholds_caller_pat(const struct td_principal *who, int64_t pat_id)
{
	int i;

	if (td_rule_is_self_pat(who, pat_id))
		return 1;
	for (i = 0; i < who->depth && i < TD_MINT_DEPTH_MAX; i++)
		if (who->makers[i].kind == 'p' && who->makers[i].id == pat_id)
			return 1;
	return 0;
}
