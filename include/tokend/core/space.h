/* Spaces: a Storyblok space, a DatoCMS project, a SoftwareOne account. */
#ifndef TOKEND_SPACE_H
#define TOKEND_SPACE_H

#include <stdint.h>

#include "tokend/core/token.h"

struct td_space {
	int64_t id;
	char name[TD_TEXT_BYTES(TD_NAME_MAX)];
	int min_cache;			/* CDN default for tokens without their own */
	int rate_limit;			/* management calls per window per caller; 0 = default */
	int64_t created_at_ms, updated_at_ms;
	char created_by[TD_ACTOR_MAX];
	int64_t revision;		/* see struct td_token */
	/* its bounds, 0 = the server's default (config) */
	int write_rate;			/* writes per window, all callers together */
	int tokens_max;
	int record_bytes_max;
};

struct td_space_change;

/* Validates the fields present and applies them: id (creating only), name
 * (required on create), min_cache, rate_limit. 0 or -1 with *err. */
int td_space_apply_change(struct td_space *sp, const struct td_space_change *ch, int creating,
			  struct td_core_error *err);

#endif
