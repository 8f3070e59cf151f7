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
td_rule_token_scopes(const struct td_token *t, unsigned role_scopes)
{
	if (!td_rule_is_management(t))
		return 0;
	return (t->role_id > 0 ? role_scopes : 0) | td_module_scopes(t->modules, t->nmodules);
}

unsigned
td_rule_pat_scopes(const struct td_pat *p)
{
	return p->scopes | (p->scopes & TD_SCOPE_SPACES_READ ? TD_SCOPE_AUDIT_READ : 0);
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
td_rule_needs_all_spaces(enum td_op op)
{
	return op == TD_OP_SPACE_CREATE || op == TD_OP_ACCOUNT_ACTIVITIES;
}

int
td_rule_token_within(const struct td_principal *who, const struct td_token *t,
		     unsigned role_scopes)
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
	return (td_rule_token_scopes(t, role_scopes) & ~who->scopes) == 0;
}

int
td_rule_may_see_value(const struct td_principal *who, const struct td_token *t,
		      unsigned role_scopes)
{
	return td_rule_holds(who, TD_SCOPE_TOKENS_WRITE) && td_rule_reaches(who, t->space_id) &&
	       td_rule_token_within(who, t, role_scopes);
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

/* --- roles --- */

const struct td_role_grant *
td_rule_role_find(const struct td_role_table *tab, int64_t id)
{
	int lo = 0, hi, mid;

	if (id <= TD_ROLE_BUILTIN_MAX)
		return td_role_builtin_grant(id);
	/* the table is sorted by id: closures look ids up often */
	hi = tab != NULL ? tab->n - 1 : -1;
	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		if (tab->g[mid].id == id)
			return &tab->g[mid];
		if (tab->g[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

/* Each role at most once: the table's by index, the built-ins by id. */
struct seen {
	unsigned char table[TD_SPACE_ROLES_MAX];
	unsigned char builtin[TD_ROLE_BUILTIN_MAX + 1];
};

/* Marks r seen; 1 when it was already. */
static int
seen_before(struct seen *s, const struct td_role_table *tab, const struct td_role_grant *r)
{
	unsigned char *mark;

	if (r->id <= TD_ROLE_BUILTIN_MAX)
		mark = &s->builtin[r->id > 0 ? r->id : 0];
	else if (tab != NULL && r >= tab->g && r < tab->g + tab->n)
		mark = &s->table[r - tab->g];
	else
		return 0;	/* a role not in the table (one being made): the start */
	if (*mark)
		return 1;
	*mark = 1;
	return 0;
}

/* Calls fn for every role g inherits from, transitively, each once (g
 * itself not, unless a cycle leads back to it); stops when fn returns 1. */
static int
each_inherited(const struct td_role_table *tab, const struct td_role_grant *g,
	       int (*fn)(const struct td_role_grant *r, void *arg), void *arg)
{
	const struct td_role_grant *stack[TD_SPACE_ROLES_MAX + TD_ROLE_BUILTIN_MAX + 1], *r, *x;
	struct seen s;
	int n = 0, i;

	memset(&s, 0, sizeof(s));
	stack[n++] = g;
	while (n > 0) {
		r = stack[--n];
		for (i = 0; i < r->ninherits && i < TD_ROLE_INHERITS_MAX; i++) {
			if ((x = td_rule_role_find(tab, r->inherits[i])) == NULL ||
			    seen_before(&s, tab, x))
				continue;
			if (fn(x, arg))
				return 1;
			/* each role is pushed once, so the stack holds them all */
			if (n < (int)(sizeof(stack) / sizeof(stack[0])))
				stack[n++] = x;
		}
	}
	return 0;
}

struct effective {
	unsigned perms;
	int env;
};

static int
add_effective(const struct td_role_grant *r, void *arg)
{
	struct effective *e = arg;

	e->perms |= r->perms;
	e->env |= r->env_access;
	return 0;
}

void
td_rule_role_effective(const struct td_role_table *tab, const struct td_role_grant *g,
		       unsigned *perms, int *env)
{
	struct effective e = { g->perms, g->env_access };

	(void)each_inherited(tab, g, add_effective, &e);
	*perms = e.perms;
	*env = e.env;
}

int
td_rule_role_perms(const struct td_role_table *tab, int64_t id, unsigned *perms, int *env)
{
	const struct td_role_grant *g = td_rule_role_find(tab, id);

	if (g == NULL)
		return -1;
	td_rule_role_effective(tab, g, perms, env);
	return 0;
}

int
td_rule_role_inherits_known(const struct td_role_table *tab, const struct td_role_grant *g)
{
	int i;

	for (i = 0; i < g->ninherits; i++)
		if (td_rule_role_find(tab, g->inherits[i]) == NULL)
			return 0;
	return 1;
}

static int
is_role(const struct td_role_grant *r, void *arg)
{
	return r->id == *(const int64_t *)arg;
}

int
td_rule_role_in_cycle(const struct td_role_table *tab, int64_t id)
{
	const struct td_role_grant *g = td_rule_role_find(tab, id);

	return g != NULL && each_inherited(tab, g, is_role, &id);
}

/* What role id grants, after inheritance, in tab; 0 when tab lacks it. */
static unsigned
grants_in(const struct td_role_table *tab, int64_t id)
{
	unsigned perms;
	int env;

	return td_rule_role_perms(tab, id, &perms, &env) == 0 ? td_role_grants(perms) : 0;
}

/* Whether role id's move from before to after is within who's scopes. */
static int
move_within(const struct td_principal *who, const struct td_role_table *before,
	    const struct td_role_table *after, int64_t id, int always)
{
	unsigned gb = grants_in(before, id), ga = grants_in(after, id);

	return (!always && gb == ga) || ((gb | ga) & ~who->scopes) == 0;
}

int
td_rule_role_change_within(const struct td_principal *who, const struct td_role_table *before,
			   const struct td_role_table *after, int64_t rid)
{
	int i;

	if (!move_within(who, before, after, rid, 1))
		return 0;
	for (i = 0; i < before->n; i++)
		if (!move_within(who, before, after, before->g[i].id, 0))
			return 0;
	for (i = 0; i < after->n; i++)
		if (!move_within(who, before, after, after->g[i].id, 0))
			return 0;
	return 1;
}

static int
lowers(const struct td_role_table *before, const struct td_role_table *after, int64_t id)
{
	return id > 0 && (grants_in(before, id) & ~grants_in(after, id)) != 0;
}

int
td_rule_role_change_cuts_caller(const struct td_principal *who,
				const struct td_role_table *before,
				const struct td_role_table *after)
{
	int i;

	if (who->kind == TD_CRED_TOKEN && lowers(before, after, who->role_id))
		return 1;
	for (i = 0; i < who->depth && i < TD_MINT_DEPTH_MAX; i++)
		if (who->makers[i].kind == 't' && lowers(before, after, who->maker_roles[i]))
			return 1;
	return 0;
}
