/*
 * A management worker's caches of records by (space, id), direct-mapped on
 * the id (a colliding record replaces the one there); absent records may
 * be cached too. Two of them:
 *  - personal access tokens (space 0, struct td_pat), so a caller's PAT is
 *    checked without a Redis round trip on every call. Exact as the verify
 *    cache is (verify_cache.h): every record in it was read under Redis
 *    client tracking, and an entry is dropped when Redis says its key
 *    changed, before any lookup is answered; while tracking is not live it
 *    is not consulted (a deleted PAT keeps being presented: its absence is
 *    cached too).
 *  - copies of the tokens the worker wrote (struct td_token_copy), each as
 *    Redis stored it with its digest, so the next update, status change or
 *    regenerate of one takes its start and its compare-and-set in one round
 *    trip. Not kept exact: each write compares the copy's digest with the
 *    record in Redis, and a stale copy is a conflict (token_service.c).
 * They hold what Redis holds: the keyed hash of a PAT's secret, a token's
 * regeneration secret (cleansed when dropped), never a token value.
 */
#ifndef TOKEND_RECORD_CACHE_H
#define TOKEND_RECORD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define TD_PAT_CACHE_SLOTS 64	/* the PATs one worker calls with at once, about */
#define TD_TOKEN_CACHE_SLOTS 16	/* tokens being changed at once (~27 KB each) */

struct td_record_cache;

/* slots: a power of two; record_size: the bytes a record is copied as.
 * NULL when out of memory (or slots is not a power of two). */
struct td_record_cache *td_record_cache_new(int slots, size_t record_size);
void td_record_cache_free(struct td_record_cache *c);

/* 1 when (space_id, id) is cached: *rec is the record, or NULL when it is
 * absent. 0 when not cached. */
int td_record_cache_get(const struct td_record_cache *c, int64_t space_id, int64_t id,
			const void **rec);

/* Caches rec (copied), or the record's absence when NULL. */
void td_record_cache_put(struct td_record_cache *c, int64_t space_id, int64_t id,
			 const void *rec);

void td_record_cache_drop(struct td_record_cache *c, int64_t space_id, int64_t id);
void td_record_cache_drop_space(struct td_record_cache *c, int64_t space_id);
void td_record_cache_clear(struct td_record_cache *c);

/* Entries in use, for tests. */
int td_record_cache_count(const struct td_record_cache *c);

#endif
