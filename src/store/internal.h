/* Shared inside the store module (the files of src/store/) only: the connection, its
 * setup, and the Lua-script runner. Nothing outside the store includes
 * this, and nothing here may hand a reply that failed to a caller. */
#ifndef TOKEND_STORE_INTERNAL_H
#define TOKEND_STORE_INTERNAL_H

#include <stdarg.h>

#include <hiredis/hiredis.h>

#include "tokend/store/store.h"

enum store_script {
	SCRIPT_CREATE_IF_ABSENT,
	SCRIPT_PUT_EXISTING,
	SCRIPT_PAT_DELETE,
	SCRIPT_TAKE_USE,
	SCRIPT_LAST_USED,
	SCRIPT_TOKEN_SOFT_DELETE,
	SCRIPT_SPACE_INDEX_ADD,
	SCRIPT_SPACE_DELETE,
	SCRIPT_TOKEN_CREATE,
	SCRIPT_TOKEN_DELETE,
	SCRIPT_PAT_CREATE,
	SCRIPT_RECORD_LIST,
	SCRIPT_RATE_CHECK,
	SCRIPT_MINTED_LIST,
	SCRIPT_ROLE_CREATE,
	SCRIPT_ROLE_PUT,
	SCRIPT_ROLE_DELETE,
	SCRIPT_ROLE_TABLE,
	SCRIPT__MAX
};

#define STORE_ARGS_MAX 140	/* a token create: 8, and two per record field */
#define STORE_LIST_BATCH 1024	/* reads pipelined at once by a list */

/* Scripts that change token or space records a verify cache may hold: not
 * the read-only ones, nor the rate limiter's counters, nor creating a token
 * (its id is new: no one can have read it) or a PAT (never cached), nor
 * roles (the verify path never reads one). */
static inline int
store_script_writes_records(enum store_script s)
{
	return s != SCRIPT_RECORD_LIST && s != SCRIPT_TOKEN_CREATE && s != SCRIPT_PAT_CREATE &&
	       s != SCRIPT_RATE_CHECK && s != SCRIPT_MINTED_LIST && s != SCRIPT_ROLE_CREATE &&
	       s != SCRIPT_ROLE_PUT && s != SCRIPT_ROLE_DELETE && s != SCRIPT_ROLE_TABLE;
}

struct td_store {
	redisContext *redis;
	struct td_redis_url url;
	int connect_timeout_ms;
	int command_timeout_ms;
	int retry_interval_ms;
	long long next_attempt_ms;	/* monotonic; no reconnect before this */
	int reported_down;		/* log the outage once, not per request */
	/* client-side caching for the verify cache (store_tracking.c) */
	td_store_invalidate_fn *on_invalidate;	/* NULL: no tracking */
	void *invalidate_arg;
	redisContext *inval;		/* subscribed to __redis__:invalidate */
	int tracking;			/* Redis tracks what this connection reads
					   with CLIENT CACHING yes, and tells inval */
	unsigned long tracking_gen;	/* bumped whenever tracking starts or ends */
	long long next_tracking_ms;	/* monotonic; no new setup before this */
	int tracking_reported;		/* log a refusal once */
	int barrier_pending;		/* a record changed; no round trip since */
	long long inval_heard_ms;	/* monotonic; the invalidation connection's
					   last sign of life (a message, a pong) */
	long long inval_ping_ms;	/* a PING sent on it and not answered, 0: none */
	long long last_use_ms;		/* monotonic; when a command last began */
	/* where data connections go: the URL's node, or the primary the
	 * sentinels named (sentinel.c) */
	struct td_redis_node node;
	redisContext *sentinel_sub;	/* subscribed to +switch-master, or NULL */
	int sentinel_last;		/* the sentinel that answered last */
	int min_replica_acks;		/* WAIT for this many replicas after a write */
	int wait_timeout_ms;
};

/* sentinel.c: the primary into store->node (0), or why not; whether a
 * connection is to a primary (ROLE); whether +switch-master named ours
 * since the last look (never waits); the watch closed. */
int store_sentinel_resolve(struct td_store *store, char *why, size_t whylen);
int store_is_primary(redisContext *c);
int store_sentinel_watch(struct td_store *store);
void store_sentinel_unwatch(struct td_store *store);

long long store_now_ms(void);
void store_mark_down(struct td_store *store, const char *why);
/* The data connection failed mid-command: marks down with hiredis's reason. */
void store_lost(struct td_store *store);

/* A new connection to the configured server, both timeouts set,
 * authenticated and on the configured database: the data connection and
 * tracking's invalidation connection are made alike. NULL with why filled
 * (never with the password). */
redisContext *store_open(const struct td_store *store, char *why, size_t whylen);

/* Tracking: set up after a (re)connect, ended with the connection. */
void store_tracking_start(struct td_store *store);
void store_tracking_end(struct td_store *store, const char *why);


/* Runs a script by SHA, falling back to EVAL (which also caches it again)
 * when Redis answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 * Returns NULL when Redis is unreachable; an error reply is returned as is. */
redisReply *store_script(struct td_store *store, enum store_script script, int nkeys,
			 int argc, const char *const *argv, const size_t *argvlen);

/* One plain command, NULL when Redis is unreachable. */
redisReply *store_command(struct td_store *store, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
redisReply *store_vcommand(struct td_store *store, const char *fmt, va_list ap);

#endif
