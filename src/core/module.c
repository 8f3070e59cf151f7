#include "tokend/core/module.h"
#include "tokend/core/pat.h"

const struct td_module td_modules[] = {
	{ 1756, "Access Management", "access-management",
	  "Users, groups and API tokens of the account",
	  TD_SCOPE_TOKENS_READ | TD_SCOPE_TOKENS_WRITE },
	{ 1234, "Invoices", "invoices", "Invoices module", 0 },
};

const int td_modules_count = sizeof(td_modules) / sizeof(td_modules[0]);

const struct td_module *
td_module_find(int64_t id)
{
	int i;

	for (i = 0; i < td_modules_count; i++)
		if (td_modules[i].id == id)
			return &td_modules[i];
	return NULL;
}

unsigned
td_module_scopes(const int64_t *ids, int n)
{
	const struct td_module *m;
	unsigned s = 0;
	int i;

	for (i = 0; i < n; i++)
		if ((m = td_module_find(ids[i])) != NULL)
			s |= m->scopes;
	return s;
}
