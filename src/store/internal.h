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
	SCRIPT_TOKEN_PUT_STARTED,
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

#define STORE_KEY_MAX 256	/* bytes of any key this module builds, NUL included */
#define STORE_ARGS_MAX 160	/* a token create: 24, and two per record field */
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

/* One Redis node's connections in one worker: the data connection and,
 * with client tracking, the invalidation connection its reads redirect to. */
/* Scripts whose writes must survive a failover: with
 * redis_min_replica_acks each is confirmed by WAIT before it is
 * acknowledged. Not the read-only ones, nor the rate limiter's counters
 * nor last-used times (losing one forgets a few requests, or when a token
 * was last seen: nothing a client was promised). */
static inline int
store_script_writes(enum store_script s)
{
	return s != SCRIPT_RECORD_LIST && s != SCRIPT_MINTED_LIST && s != SCRIPT_ROLE_TABLE &&
	       s != SCRIPT_RATE_CHECK && s != SCRIPT_LAST_USED;
}

struct store_link {
	struct td_redis_node node;
	int used;			/* a cluster primary of the map (or the one node) */
	redisContext *redis;
	long long next_attempt_ms;	/* monotonic; no reconnect before this */
	int reported_down;		/* log the outage once, not per request */
	long long last_use_ms;		/* monotonic; when a command last began */
	long long role_checked_ms;	/* monotonic; ROLE last said "master" (Sentinel) */
	int busy;			/* replies of a pipeline still to read: nothing
					   else may be sent on redis meanwhile */
	redisContext *inval;		/* subscribed to __redis__:invalidate */
	int tracking;			/* the node tracks what redis reads with
					   CLIENT CACHING yes, and tells inval */
	int barrier_pending;		/* a record changed; no round trip since */
	long long inval_heard_ms;	/* monotonic; inval's last sign of life */
	long long inval_ping_ms;	/* a PING sent on it and not answered, 0: none */
};

#define STORE_SLOTS 16384	/* Redis Cluster's hash slots */
#define STORE_NO_LINK 0xff	/* a slot no known primary serves */
_Static_assert(TD_CLUSTER_PRIMARIES_MAX < STORE_NO_LINK, "a link index fits a byte");

struct td_store {
	struct td_redis_url url;
	int connect_timeout_ms;
	int command_timeout_ms;
	int retry_interval_ms;
	/* links[0] alone, except on a cluster: one per primary of the map */
	struct store_link links[TD_CLUSTER_PRIMARIES_MAX];
	int nlinks;			/* links[nlinks…] were never used */
	struct store_link *link;	/* the node of the command under way */
	/* client-side caching for the verify cache (tracking.c) */
	td_store_invalidate_fn *on_invalidate;	/* NULL: no tracking */
	void *invalidate_arg;
	unsigned long tracking_gen;	/* bumped whenever tracking starts or ends
					   on any link, or the cluster map changes */
	long long next_tracking_ms;	/* monotonic; no new setup before this */
	int tracking_reported;		/* log a refusal once */
	/* Sentinel (sentinel.c): links[0].node is the primary they named */
	redisContext *sentinel_sub;	/* subscribed to +switch-master, or NULL */
	int sentinel_last;		/* the sentinel that answered last */
	/* Cluster (cluster.c) */
	unsigned char slot_link[STORE_SLOTS];	/* index into links */
	int map_known;			/* a slot map was read */
	int map_stale;			/* ask for the slot map before the next command */
	long long map_next_ms;		/* monotonic; no map refresh before this */
	int map_reported;		/* no node answered: logged once */
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
/* The current link's data connection failed mid-command: marks it down
 * with hiredis's reason. */
void store_lost(struct td_store *store);
/* Closes a link's connections (and with them its tracking). */
void store_link_close(struct td_store *store, struct store_link *link);

/* A new connection to node, both timeouts set, authenticated and on the
 * configured database: the data connection and tracking's invalidation
 * connection are made alike. NULL with why filled (never with the password). */
redisContext *store_open(const struct td_store *store, const struct td_redis_node *node,
			 char *why, size_t whylen);

/* store->link connected (reconnected if it was closed, or its node is not
 * the primary any more): 0, else -1 (marked down). */
int store_link_connect(struct td_store *store);
/* Makes store->link the node that serves key (any node for NULL), connected:
 * 0, else -1 (the request answers 503). */
int store_route(struct td_store *store, const char *key, size_t keylen);

/* cluster.c: the slot map read again (0), or not (-1: no node answered, or
 * asked too recently); store->link made the primary serving key (any for
 * NULL), or -1 when none is known; what a cluster error reply asks for
 * (with ASK, the node in *to). */
int store_cluster_refresh(struct td_store *store);
int store_cluster_pick(struct td_store *store, const char *key, size_t keylen);
enum store_redirect {
	REDIRECT_NONE,
	REDIRECT_MOVED,		/* the slot lives elsewhere now: map refreshed */
	REDIRECT_ASK,		/* this key, this once, at *to (ASKING first) */
	REDIRECT_RETRY,		/* TRYAGAIN: a moment later */
	REDIRECT_CLUSTERDOWN,	/* a failover under way: a moment later, briefly */
	REDIRECT_DOWN		/* a redirection that names no node */
};
enum store_redirect store_cluster_redirect(struct td_store *store, const redisReply *reply,
					   struct store_link **to);

/* Tracking: set up on a link after it (re)connects, ended with it. */
void store_tracking_start(struct td_store *store, struct store_link *link);
void store_tracking_end(struct td_store *store, struct store_link *link, const char *why);
/* Any change that could have lost an invalidation on any link. */
void store_tracking_reset(struct td_store *store);


/* Runs a script by SHA, falling back to EVAL (which also caches it again)
 * when Redis answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 * Returns NULL when Redis is unreachable; an error reply is returned as is. */
redisReply *store_script(struct td_store *store, enum store_script script, int nkeys,
			 int argc, const char *const *argv, const size_t *argvlen);

/* With redis_min_replica_acks, waits until that many replicas of the node
 * that ran the last command have it (WAIT): 0, else -1 (logged; the
 * request answers 503). */
int store_confirm_write(struct td_store *store);

/* Appends one command to the current link's pipeline (read back with
 * pipeline reads): 0, or -1 out of memory. In hiredis's sds form: its
 * printf-style formatter sprintf's every length, a fifth of a cache-off
 * verify's instructions. */
#define STORE_APPEND_ARGS_MAX 8
int store_append(struct td_store *store, int argc, const char **argv);

/* One plain command on the node that serves key, NULL when Redis is
 * unreachable. */
redisReply *store_command(struct td_store *store, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
redisReply *store_vcommand(struct td_store *store, const char *key, const char *fmt, va_list ap);

#endif
