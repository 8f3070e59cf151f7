/* Spaces: validation of a typed change, the one place space fields are judged. */
#include <string.h>

#include "tokend/core/core.h"
#include "tokend/core/space.h"

#define FAIL(code_, f, m) do { err->code = (code_); err->field = (f); err->message = (m); \
			       return -1; } while (0)

int
td_space_apply_change(struct td_space *sp, const struct td_space_change *ch, int creating,
		      struct td_core_error *err)
{
	const char *msg = NULL;

	if (creating && ch->has_id) {
		if (ch->id < 1 || ch->id > TD_ID_MAX)
			FAIL(TD_ERR_INVALID, "id", "is out of range");
		sp->id = ch->id;
	}
	if (ch->has_name || creating) {
		if (!ch->has_name || ch->name.s == NULL || ch->name.len == 0)
			FAIL(creating && !ch->has_name ? TD_ERR_MISSING : TD_ERR_INVALID, "name",
			     "can't be blank");
		if (td_text_check(&ch->name, TD_NAME_MAX, &msg) != 0)
			FAIL(TD_ERR_INVALID, "name", msg);
		td_text_copy(&ch->name, sp->name, sizeof(sp->name));
	}
	if (ch->has_rate_limit) {
		if (ch->rate_limit < 0 || ch->rate_limit > TD_RATE_LIMIT_MAX)
			FAIL(TD_ERR_INVALID, "rate_limit", "must be between 1 and 1000000");
		sp->rate_limit = (int)ch->rate_limit;
	}
	if (ch->has_write_rate) {
		if (ch->write_rate < 0 || ch->write_rate > TD_RATE_LIMIT_MAX)
			FAIL(TD_ERR_INVALID, "limits.write_rate", "must be between 1 and 1000000");
		sp->write_rate = (int)ch->write_rate;
	}
	if (ch->has_tokens_max) {
		if (ch->tokens_max < 0 || ch->tokens_max > TD_SPACE_TOKENS_LIMIT)
			FAIL(TD_ERR_INVALID, "limits.tokens", "must be between 1 and 1000000");
		sp->tokens_max = (int)ch->tokens_max;
	}
	if (ch->has_record_bytes) {
		if (ch->record_bytes != 0 && (ch->record_bytes < TD_RECORD_BYTES_MIN ||
					      ch->record_bytes > TD_RECORD_BYTES_LIMIT))
			FAIL(TD_ERR_INVALID, "limits.record_bytes", "must be between 2048 and 1048576");
		sp->record_bytes_max = (int)ch->record_bytes;
	}
	if (ch->has_min_cache) {
		if (ch->min_cache < 0 || ch->min_cache > TD_MIN_CACHE_MAX)
			FAIL(TD_ERR_INVALID, "min_cache", "must be between 0 and 31536000");
		sp->min_cache = (int)ch->min_cache;
	}
	return 0;
}
