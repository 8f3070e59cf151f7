/*
 * A worker's caches kept exact by Redis client tracking (the verify cache,
 * the PAT cache): the one callback the store's invalidations go to, which
 * hands each cache what concerns it.
 */
#ifndef TOKEND_CACHES_H
#define TOKEND_CACHES_H

#include <stdint.h>

#include "tokend/store/store.h"

/* td_store_invalidate_fn; ctx is the worker's struct td_ctx. */
void td_caches_invalidate(void *ctx, enum td_invalidate what, int64_t space_id, int64_t id);

#endif
