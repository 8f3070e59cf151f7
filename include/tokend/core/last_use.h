/*
 * When a credential was last accepted (verify, management auth), kept off
 * the hot path: a worker notes each use in a fixed table (no allocation,
 * one hash and a store) and writes a credential's time to Redis at most
 * once per last_used_interval, from its loop, after the answers have gone.
 * A note pushed out of the table by another credential before it was
 * written is lost; the next use notes it again.
 */
#ifndef TOKEND_CORE_LAST_USE_H
#define TOKEND_CORE_LAST_USE_H

#include <stdint.h>

#define TD_LAST_USE_SLOTS 16384	/* credentials noted per worker between writes */

struct td_store;

struct td_last_use_slot {
	int64_t space_id;	/* 0 for a personal access token */
	int64_t id;		/* 0: empty */
	int64_t seen_ms;	/* its latest use */
	int64_t written_ms;	/* what was last written for it (0: never) */
};

struct td_last_use {
	struct td_last_use_slot slots[TD_LAST_USE_SLOTS];
	int64_t interval_ms;
	int pending;		/* slots with a use not yet written */
	int64_t due_ms;		/* when the pending writes are due */
	int64_t flushed_ms;	/* the last flush */
};

void td_last_use_init(struct td_last_use *lu, int interval_s);

/* A use of token (space_id, id), or of PAT id (space_id 0), at now_ms. */
void td_last_use_note(struct td_last_use *lu, int64_t space_id, int64_t id, int64_t now_ms);

/* Milliseconds until a write is due (0: now), or -1 when nothing waits. */
int td_last_use_wait_ms(const struct td_last_use *lu, int64_t now_ms);

/* Writes what is due. 0, or -1 when Redis failed (kept for the next try). */
int td_last_use_flush(struct td_last_use *lu, struct td_store *store, int64_t now_ms);

#endif
