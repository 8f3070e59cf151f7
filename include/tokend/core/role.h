/*
 * Management roles for space tokens (DatoCMS roles). Every space has the
 * same built-in roles; a token with the management right (can_access_cma)
 * acts with its role's permissions in its own space only.
 */
#ifndef TOKEND_ROLE_H
#define TOKEND_ROLE_H

#include <stdint.h>

#define TD_ROLE_ADMIN    1
#define TD_ROLE_READONLY 2

struct td_role {
	int64_t id;
	const char *name;
	int can_manage_access_tokens;
};

extern const struct td_role td_roles[];
extern const int td_roles_count;

const struct td_role *td_role_find(int64_t id);

/* The PAT-style scopes (enum td_scope) a role grants in its space. */
unsigned td_role_scopes(const struct td_role *r);

#endif
