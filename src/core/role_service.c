/* DatoCMS roles, for any caller that may read tokens: today the built-in
 * roles every space shares (core/role.c). */
#include "tokend/core/internal.h"
#include "tokend/core/role.h"

int
td_core_role_list(struct td_call *c, td_core_role_cb cb, void *arg)
{
	int i, rc = 0;

	if (td_core_expect(c, TD_OP_ROLE_LIST) != TD_OK)
		return c->err.code;
	for (i = 0; i < td_roles_count && rc == 0; i++)
		rc = cb(&td_roles[i], arg);
	return rc == 0 ? TD_OK : td_fail(c, TD_ERR_INTERNAL, NULL, "out of memory");
}

int
td_core_role_get(struct td_call *c, int64_t id, const struct td_role **out)
{
	if (td_core_expect(c, TD_OP_ROLE_GET) != TD_OK)
		return c->err.code;
	if ((*out = td_role_find(id)) == NULL)
		return td_fail(c, TD_ERR_NOT_FOUND, NULL, "no such role");
	return TD_OK;
}
