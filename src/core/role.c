#include "tokend/core/pat.h"
#include "tokend/core/role.h"

const struct td_role td_roles[] = {
	{ TD_ROLE_ADMIN, "Admin", 1 },
	{ TD_ROLE_READONLY, "Read-only", 0 },
};

const int td_roles_count = sizeof(td_roles) / sizeof(td_roles[0]);

const struct td_role *
td_role_find(int64_t id)
{
	int i;

	for (i = 0; i < td_roles_count; i++)
		if (td_roles[i].id == id)
			return &td_roles[i];
	return NULL;
}

unsigned
td_role_scopes(const struct td_role *r)
{
	unsigned s = TD_SCOPE_SPACES_READ | TD_SCOPE_TOKENS_READ;

	if (r != NULL && r->can_manage_access_tokens)
		s |= TD_SCOPE_TOKENS_WRITE;
	return r != NULL ? s : 0;
}
