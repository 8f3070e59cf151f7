/* Spaces: a Storyblok space, a DatoCMS project, a SoftwareOne account. */
#ifndef TOKEND_SPACE_H
#define TOKEND_SPACE_H

#include <stdint.h>

#include <json-c/json.h>

#include "tokend/core/token.h"


struct td_space {
	int64_t id;
	char name[TD_TEXT_BYTES(TD_NAME_MAX)];
	int min_cache;			/* CDN default for tokens without their own */
	int rate_limit;			/* management calls per window per caller; 0 = default */
	int64_t created_at_ms, updated_at_ms;
	char created_by[TD_ACTOR_MAX];
};

/* Validates and applies id (creating only), name (required on create) and
 * min_cache. */
int td_space_apply_json(struct td_space *sp, struct json_object *obj, int creating,
			int *explicit_id, struct td_field_error *err);

#endif
