/*
 * SoftwareOne modules: a per-deployment catalogue. A token's modules map
 * onto management scopes (Access Management lets it manage the account's
 * tokens); the others are carried for the clients that expect them.
 */
#ifndef TOKEND_MODULE_H
#define TOKEND_MODULE_H

#include <stdint.h>

struct td_module {
	int64_t id;		/* MOD-NNNN */
	const char *name;
	const char *code;
	const char *description;
	unsigned scopes;	/* enum td_scope bits it grants */
};

extern const struct td_module td_modules[];
extern const int td_modules_count;

const struct td_module *td_module_find(int64_t id);
unsigned td_module_scopes(const int64_t *ids, int n);

#endif
