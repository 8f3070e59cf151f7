/* The invalidations of a worker's tracked caches (see caches.h). */
#include "tokend/core/caches.h"
#include "tokend/core/core.h"
#include "tokend/core/record_cache.h"
#include "tokend/core/verify_cache.h"

void
td_caches_invalidate(void *ctx, enum td_invalidate what, int64_t space_id, int64_t id)
{
	struct td_ctx *x = ctx;

	if (x->verify_cache != NULL && what != TD_INVALIDATE_PAT)
		td_verify_cache_invalidate(x->verify_cache, what, space_id, id);
	if (x->pat_cache != NULL && what == TD_INVALIDATE_PAT)
		td_record_cache_drop(x->pat_cache, 0, id);
	else if (x->pat_cache != NULL && what == TD_INVALIDATE_ALL)
		td_record_cache_clear(x->pat_cache);
}
