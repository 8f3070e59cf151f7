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

#endif
