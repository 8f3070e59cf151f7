/* Last use of credentials, batched per worker (see tokend/core/last_use.h). */
#include <string.h>

#include "tokend/core/last_use.h"
#include "tokend/store/store.h"

#define FLUSH_PAUSE_MS 1000	/* a worker writes at most once a second */

void
td_last_use_init(struct td_last_use *lu, int interval_s)
{
	memset(lu, 0, sizeof(*lu));
	lu->interval_ms = (int64_t)interval_s * 1000;
}

static struct td_last_use_slot *
slot_of(struct td_last_use *lu, int64_t space_id, int64_t id)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL ^ (uint64_t)space_id;

	x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
	return &lu->slots[(x ^ (x >> 29)) & (TD_LAST_USE_SLOTS - 1)];
}

static int
is_pending(const struct td_last_use *lu, const struct td_last_use_slot *s)
{
	return s->id != 0 && s->seen_ms > s->written_ms &&
	       (s->written_ms == 0 || s->seen_ms - s->written_ms >= lu->interval_ms);
}

void
td_last_use_note(struct td_last_use *lu, int64_t space_id, int64_t id, int64_t now_ms)
{
	struct td_last_use_slot *s = slot_of(lu, space_id, id);
	int was;

	if (s->id != id || s->space_id != space_id) {
		if (is_pending(lu, s))
			lu->pending--;	/* pushed out before it was written */
		s->space_id = space_id;
		s->id = id;
		s->written_ms = 0;
		s->seen_ms = 0;
	}
	was = is_pending(lu, s);
	s->seen_ms = now_ms;
	if (!was && is_pending(lu, s) && lu->pending++ == 0)
		lu->due_ms = lu->flushed_ms + FLUSH_PAUSE_MS > now_ms ? lu->flushed_ms + FLUSH_PAUSE_MS
								      : now_ms;
}

int
td_last_use_wait_ms(const struct td_last_use *lu, int64_t now_ms)
{
	if (lu->pending == 0)
		return -1;
	return lu->due_ms <= now_ms ? 0 : (int)(lu->due_ms - now_ms);
}

int
td_last_use_flush(struct td_last_use *lu, struct td_store *store, int64_t now_ms)
{
	struct td_last_use_slot *s;
	int i, rc = 0;

	if (lu->pending == 0 || lu->due_ms > now_ms)
		return 0;
	for (i = 0; i < TD_LAST_USE_SLOTS && lu->pending > 0; i++) {
		s = &lu->slots[i];
		if (!is_pending(lu, s))
			continue;
		if (td_store_last_used(store, s->space_id, s->id, s->seen_ms) < 0) {
			rc = -1;
			break;
		}
		s->written_ms = s->seen_ms;
		lu->pending--;
	}
	/* the write barrier the next answer would pay (its PING) is paid
	 * here, off every request's path */
	td_store_write_barrier(store);
	lu->flushed_ms = now_ms;
	lu->due_ms = now_ms + FLUSH_PAUSE_MS;	/* a failed write waits as long */
	return rc;
}
