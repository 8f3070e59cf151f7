#ifndef TOKEND_CORE_CRED_REF_H
#define TOKEND_CORE_CRED_REF_H

/*
 * A credential reference names the credential that minted another one:
 * "p:<pat id>" or "t:<space id>:<token id>". Ids are 1..INT64_MAX in
 * canonical decimal (no sign, no leading zero), so one credential has one
 * spelling, and a Redis key built from it names one set. The core writes
 * references, the store keys its minted-credential index by them, and both
 * read them back through this one parser.
 */
#include <stddef.h>
#include <stdint.h>

#include "tokend/limits.h"

struct td_cred_ref {
	char kind;		/* 'p' (personal access token) or 't' (space token) */
	int64_t space_id;	/* 't' only, else 0 */
	int64_t id;
};

/* 0, or -1 for anything else (TD_CRED_REF_MAX bytes or more included). */
int td_cred_ref_parse(const char *s, size_t len, struct td_cred_ref *out);

/* Writes the canonical spelling into out[TD_CRED_REF_MAX]. */
void td_cred_ref_pat(int64_t pat_id, char out[TD_CRED_REF_MAX]);
void td_cred_ref_token(int64_t space_id, int64_t token_id, char out[TD_CRED_REF_MAX]);

#endif
