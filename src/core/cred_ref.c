/* Credential references (see tokend/core/cred_ref.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tokend/core/cred_ref.h"
#include "tokend/server/parse.h"

int
td_cred_ref_parse(const char *s, size_t len, struct td_cred_ref *out)
{
	const char *colon;

	if (s == NULL || len < 3 || len >= TD_CRED_REF_MAX || s[1] != ':')
		return -1;
	out->kind = s[0];
	out->space_id = 0;
	if (s[0] == 'p')
		return td_parse_id(s + 2, len - 2, INT64_MAX, &out->id);
	if (s[0] != 't' || (colon = memchr(s + 2, ':', len - 2)) == NULL)
		return -1;
	if (td_parse_id(s + 2, (size_t)(colon - s - 2), INT64_MAX, &out->space_id) != 0)
		return -1;
	return td_parse_id(colon + 1, (size_t)(s + len - colon - 1), INT64_MAX,
			   &out->id);
}

void
td_cred_ref_pat(int64_t pat_id, char out[TD_CRED_REF_MAX])
{
	snprintf(out, TD_CRED_REF_MAX, "p:%" PRId64, pat_id);
}

void
td_cred_ref_token(int64_t space_id, int64_t token_id, char out[TD_CRED_REF_MAX])
{
	snprintf(out, TD_CRED_REF_MAX, "t:%" PRId64 ":%" PRId64, space_id, token_id);
}
