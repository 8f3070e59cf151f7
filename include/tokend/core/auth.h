/*
 * Credentials presented to the management API: td_core_identify (core.h)
 * turns one into a td_principal. This header only names the helper the
 * views share to find the credential in a header value.
 */
#ifndef TOKEND_AUTH_H
#define TOKEND_AUTH_H

#include <stddef.h>

#include "tokend/core/core.h"

#define TD_AUTHORIZATION_MAX 512

/* The token in an Authorization value: raw, or after a case-insensitive
 * "Bearer ". NULL when absent or empty; *len gets its length. */
const char *td_auth_bearer(const char *header, size_t *len);

/* Whether ref (a parsed, tag-checked string) is the current value of the
 * record it names: same key, kind and secret; for a PAT, the keyed hash of
 * its secret. An older value (regenerated, another key) is not. */
int td_auth_token_current(const struct td_token *t, const struct td_token_ref *ref);
int td_auth_pat_current(const struct td_keyring *kr, const struct td_pat *p,
			const struct td_token_ref *ref);

#endif
