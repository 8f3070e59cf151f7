/*
 * A worker's verify cache: what the verify rules need of a token record,
 * by (space, token id), so a hot token is checked without a Redis round
 * trip. It is exact, never "fresh enough": the store tracks every record
 * read into it (Redis CLIENT TRACKING) and drops entries when Redis says a
 * key changed, before any lookup is answered (see store_tracking.c).
 *
 * Direct-mapped: a slot holds one token; a colliding token replaces it.
 * Absent records are cached too (deleted tokens keep being presented).
 */
#ifndef TOKEND_VERIFY_CACHE_H
#define TOKEND_VERIFY_CACHE_H

#include <stdint.h>

#include "tokend/core/verify.h"
#include "tokend/store/store.h"

#define TD_VERIFY_CACHE_MAX (1 << 22)	/* slots; config verify_cache_entries */

struct td_verify_cache;

/* slots is rounded up to a power of two; NULL when out of memory. */
struct td_verify_cache *td_verify_cache_new(int slots);
void td_verify_cache_free(struct td_verify_cache *c);

/* 1 when (space_id, id) is cached: *facts is the record, or NULL when the
 * record is absent. 0 when not cached. */
int td_verify_cache_get(const struct td_verify_cache *c, int64_t space_id, int64_t id,
			const struct td_token_facts **facts);

/* Caches facts (copied, lists included), or the record's absence when NULL.
 * -1 when out of memory (nothing cached). */
int td_verify_cache_put(struct td_verify_cache *c, int64_t space_id, int64_t id,
			const struct td_token_facts *facts);

void td_verify_cache_drop(struct td_verify_cache *c, int64_t space_id, int64_t id);
void td_verify_cache_drop_space(struct td_verify_cache *c, int64_t space_id);
void td_verify_cache_clear(struct td_verify_cache *c);

/* The store's invalidation callback (td_store_on_invalidate), cache = the cache. */
void td_verify_cache_invalidate(void *cache, enum td_invalidate what, int64_t space_id,
				int64_t id);

/* Entries in use, for tests and the bench. */
int td_verify_cache_count(const struct td_verify_cache *c);

#endif
