/*
 * A management worker's cache of personal access tokens by id, so a caller's
 * PAT is checked without a Redis round trip on every call. Exact as the
 * verify cache is (verify_cache.h): every record in it was read under Redis
 * client tracking, and an entry is dropped when Redis says its key changed
 * (deleted, or its last use written), before any lookup is answered; while
 * tracking is not live the cache is not consulted. It holds what Redis
 * holds: the keyed hash of the secret, never a token value. Absent PATs
 * are cached too (a deleted PAT keeps being presented).
 *
 * Direct-mapped on the id; a colliding PAT replaces the one there.
 */
#ifndef TOKEND_PAT_CACHE_H
#define TOKEND_PAT_CACHE_H

#include <stdint.h>

#include "tokend/core/pat.h"
#include "tokend/store/store.h"

#define TD_PAT_CACHE_SLOTS 64	/* the PATs one worker calls with at once, about */

struct td_pat_cache;

/* NULL when out of memory. */
struct td_pat_cache *td_pat_cache_new(void);
void td_pat_cache_free(struct td_pat_cache *c);

/* 1 when PAT id is cached: *pat is the record, or NULL when it is absent.
 * 0 when not cached. */
int td_pat_cache_get(const struct td_pat_cache *c, int64_t id, const struct td_pat **pat);

/* Caches pat (copied), or the PAT's absence when NULL. */
void td_pat_cache_put(struct td_pat_cache *c, int64_t id, const struct td_pat *pat);

void td_pat_cache_drop(struct td_pat_cache *c, int64_t id);
void td_pat_cache_clear(struct td_pat_cache *c);

/* Entries in use, for tests. */
int td_pat_cache_count(const struct td_pat_cache *c);

#endif
