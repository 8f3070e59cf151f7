/*
 * The store: the only module that talks to Redis. One connection per
 * worker (per primary on a Redis Cluster), connect and command timeouts,
 * reconnect on demand.
 *
 * A failed command drops the connection; the next call reconnects, but no
 * more often than redis_retry_interval_ms, so while Redis is down requests
 * fail fast (503) instead of each waiting out a connect timeout.
 *
 * It stores and reads what it is given and decides nothing (who may, what
 * is valid: core/); it never hands a caller a reply, a key or a record it
 * could not check.
 */
#ifndef TOKEND_STORE_H
#define TOKEND_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tokend/core/core.h"
#include "tokend/server/config.h"

struct td_redis_node {
	char host[256];
	int port;
};

struct td_redis_url {
	int is_unix;
	char host[256];
	int port;
	char path[108];
	int db;
	char user[TD_REDIS_USER_MAX];	/* a Redis 6 ACL user; "" = default */
	char password[TD_SECRET_MAX];
	/* redis-sentinel://: the sentinels to ask for the primary of master_name
	 * (the credentials above are the data nodes') */
	int is_sentinel;
	struct td_redis_node sentinels[TD_SENTINELS_MAX];
	int nsentinels;
	char master_name[TD_SENTINEL_NAME_MAX];
	/* redis-cluster://: nodes to ask for the slot map (any node will do) */
	int is_cluster;
	struct td_redis_node seeds[TD_CLUSTER_SEEDS_MAX];
	int nseeds;
};

/* redis://[[user]:password@]host[:port][/db], unix:///path[?db=N], or
 * redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/MASTER_NAME[/db], or
 * redis-cluster://[[user]:password@]host[:port][,host[:port]…][/0];
 * rediss:// (TLS) is refused, naming why (no TLS in Debian 12's hiredis). */
int td_redis_url_parse(const char *url, struct td_redis_url *out, char *err, size_t errlen);

/* The Redis Cluster hash slot of a key (CRC16 of its hash tag, if any). */
unsigned td_redis_key_slot(const char *key, size_t len);
/* From one node's CLUSTER NODES: 1 when it (a primary, with primary) still
 * reaches a majority of the primaries serving slots, so no failover can
 * have replaced it nor changed the map without its knowing, else 0. */
int td_redis_cluster_view_trusted(const char *nodes, int primary);

struct td_store;

struct td_store *td_store_new(const struct td_config *cfg);
void td_store_free(struct td_store *store);

/* Takes new settings; drops the connection if the server or timeouts changed. */
int td_store_reconfigure(struct td_store *store, const struct td_config *cfg);

/* Connects now if not connected (used at worker start to warm up). */
int td_store_connect(struct td_store *store);

/* 0 when Redis answers PING with PONG, -1 when it is unreachable or failing. */
int td_store_ping(struct td_store *store);

/* Client-side caching. fn hears of every change to a token or space record
 * this worker read with tracking on, and of ALL when tracking starts or
 * stops (connection lost, Redis flushed, tracking refused): then nothing
 * cached may be trusted. Setting fn turns tracking on. */
enum td_invalidate {
	TD_INVALIDATE_ALL, TD_INVALIDATE_SPACE, TD_INVALIDATE_TOKEN,
	TD_INVALIDATE_PAT	/* id: the PAT's; space_id 0 */
};
typedef void td_store_invalidate_fn(void *arg, enum td_invalidate what, int64_t space_id,
				    int64_t id);
void td_store_on_invalidate(struct td_store *store, td_store_invalidate_fn *fn, void *arg);

/* Delivers every invalidation Redis has sent so far (no waiting) and (re)starts
 * tracking when due. 1 when tracking is live: what fn has not been told of
 * is unchanged in Redis. 0 otherwise (cache nothing, trust nothing). */
/* How often an idle worker should call td_store_tracking_keepalive, so its
 * invalidation connection is pinged and a dead one noticed in time; it
 * never blocks (it does nothing while tracking is not set up). */
#define TD_STORE_KEEPALIVE_MS 250
void td_store_tracking_keepalive(struct td_store *store);
int td_store_tracking_sync(struct td_store *store);

/* A worker that changed a record calls this before answering (dispatch
 * wires it to every response): if no round trip followed the change yet,
 * one PING does, so Redis has sent the change's invalidations to every
 * other worker's cache before this answer can reach anyone. No-op without
 * tracking. arg is the store. */
void td_store_write_barrier(void *store);

/* Results of the record operations below. */
enum td_store_result {
	TD_STORE_OK = 0,
	TD_STORE_NOT_FOUND = 1,
	TD_STORE_EXISTS = 2,
	TD_STORE_CONFLICT = 3,	/* changed since it was read: read it again */
	TD_STORE_QUOTA = 4,	/* a bound reached (tokens per space, PATs per owner) */
	TD_STORE_DANGLING = 5,	/* names a record that is gone: a token's role, a
				   role a role inherits from */
	TD_STORE_IN_USE = 6,	/* others depend on it (a role): not deleted */
	TD_STORE_TOO_LARGE = 7,	/* a record above its space's bound (limits.record_bytes) */
	TD_STORE_RATE_LIMITED = 8,	/* a call's limiter refused: nothing written */
	TD_STORE_DOWN = -1,	/* unreachable or failing: the caller answers 503 */
	TD_STORE_REFUSED = -2,	/* up, but refusing writes (OOM, MISCONF): 503 too,
				   saying so; reads still work */
};

struct td_space;
struct td_token;
struct td_pat;
struct td_role;
struct td_role_table;

typedef int (*td_space_cb)(const struct td_space *sp, void *arg);
typedef int (*td_token_cb)(const struct td_token *t, int space_min_cache, void *arg);
typedef int (*td_pat_cb)(const struct td_pat *p, void *arg);

/* Spaces. create assigns sp->id unless explicit_id. */
int td_store_space_create(struct td_store *store, struct td_space *sp, int explicit_id);
int td_store_space_get(struct td_store *store, int64_t id, struct td_space *out);
int td_store_space_put(struct td_store *store, struct td_space *sp);
/* Deletes the space and every token in it; *deleted gets the space. */
int td_store_space_delete(struct td_store *store, int64_t id, struct td_space *deleted);
int td_store_space_list(struct td_store *store, td_space_cb cb, void *arg);

/* Ids handed out before a create, so a record can name its id (a token
 * string, a minted-by reference) before it is written: INCR {tokens}:seq,
 * {pats}:seq. */
int td_store_token_next_id(struct td_store *store, int64_t *id);
int td_store_pat_next_id(struct td_store *store, int64_t *id);

/* A space's bounds on a token create, where the space sets none of its own
 * (its "lt", "lb"): record_bytes_max 0 checks no size. */
struct td_token_bounds {
	int tokens_max;
	int record_bytes_max;
};
struct td_store_start;
/* Tokens. create writes t->id when it is > 0 (from td_store_token_next_id)
 * and assigns one when it is 0: inside its script on one Redis or
 * Sentinel's primary (a refused create takes no id), by a round trip of
 * its own first on a cluster (the sequence has its own slot). It takes the call's start in the same
 * round trip (start: its limiters, then the space, read into
 * start->space): RATE_LIMITED when a limiter refused (start->rates say
 * which), NOT_FOUND when the space does not exist, EXISTS when the id is
 * taken, TOO_LARGE above the record bound, QUOTA when the space holds its
 * most tokens, DANGLING when the token's role is gone; nothing is written
 * unless OK. The activity entry (actor, action; NULL none) rides along. */
int td_store_token_create(struct td_store *store, struct td_token *t, const char *actor,
			  const char *action, const struct td_token_bounds *bounds,
			  struct td_store_start *start);
/* Raises the last use of token (space_id, id) — or PAT id when space_id is
 * 0 — to at_ms; a credential gone stays gone. */
int td_store_last_used(struct td_store *store, int64_t space_id, int64_t id, int64_t at_ms);
/* Takes one use of a token with a use limit, atomically: OK (*left =
 * the uses after it), QUOTA when none is left, NOT_FOUND when it is gone. */
int td_store_token_take_use(struct td_store *store, int64_t space_id, int64_t id, int64_t *left);
/* The bytes t takes as stored (field names and values). */
size_t td_store_token_bytes(const struct td_token *t);
int td_store_token_get(struct td_store *store, int64_t space_id, int64_t id,
		       struct td_token *out, int *space_min_cache);
/* The same read for the verify path, tracked when tracking is live: *tracked
 * is then 1 and the result (record or absence) may be cached until fn hears
 * of the token or its space. */
int td_store_token_get_tracked(struct td_store *store, int64_t space_id, int64_t id,
			       struct td_token *out, int *space_min_cache, int *tracked);
/* Writes t back if it is still the revision t was read at (t->revision
 * counted up); TD_STORE_CONFLICT if another write came in between,
 * NOT_FOUND if it is gone. The same for td_store_space_put. With an actor,
 * the space's activity trail records action on t in the same script. */
int td_store_token_put(struct td_store *store, struct td_token *t, const char *actor,
		       const char *action);
/* A record's digest in hex, its NUL included (SHA-1: records.c). */
#define TD_STORE_DIGEST_HEX 41
/* A token as stored, and the digest of its stored form: a worker's copy of
 * a token it wrote, whose next change is judged on it and written only if
 * the stored record is still that one, byte for byte. */
struct td_token_copy {
	struct td_token t;
	char digest[TD_STORE_DIGEST_HEX];
	int have;			/* 0: nothing was read back */
};
/* A change of token t with the call's start in the same round trip (start
 * as td_store_token_create's; n = 0 when the call took it already, the
 * space is read either way): RATE_LIMITED, NOT_FOUND for no such space
 * (space_found 0) or token, CONFLICT when it changed since it was read (its
 * revision t->revision, or, with base_digest, anything in it since the copy
 * with that digest), TOO_LARGE when record_bytes_max > 0 and the record is
 * above the space's bound (its own, else record_bytes_max), DANGLING when
 * its role is gone; else written as td_store_token_put writes. written:
 * the record as stored after the write, read back in the same round trip
 * (written->have 0 when it could not be). */
int td_store_token_change(struct td_store *store, struct td_token *t, const char *actor,
			  const char *action, int record_bytes_max, struct td_store_start *start,
			  const char *base_digest, struct td_token_copy *written);
/* Writes t (status Deleted) as td_store_token_put does and moves it from
 * the space's index to its index of deleted tokens: kept for audit, no
 * longer listed nor counted against limits.tokens. */
int td_store_token_soft_delete(struct td_store *store, struct td_token *t);
/* Leaves the set of what the token minted for the caller to walk and drop. */
int td_store_token_delete(struct td_store *store, int64_t space_id, int64_t id,
			  struct td_token *deleted);
/* Every token of a space in id order; NOT_FOUND when the space does not exist. */
int td_store_token_list(struct td_store *store, int64_t space_id, td_token_cb cb, void *arg);

/* A space's own roles (DatoCMS). Ids come from the space's counter, above
 * the built-in roles; names are unique in the space; every role a role
 * inherits from exists when it is written. Each token write keeps a count
 * of the tokens holding each role, in the same script (a token create or
 * update naming a role that is gone is DANGLING), so a role is deleted only
 * while no token holds it and no role inherits from it (else IN_USE), with
 * no window between the check and the delete. */
/* Assigns r->id. NOT_FOUND: no space; QUOTA: the space holds roles_max;
 * EXISTS: the name is taken; DANGLING: an inherited role is gone. */
int td_store_role_create(struct td_store *store, struct td_role *r, int roles_max);
int td_store_role_get(struct td_store *store, int64_t space_id, int64_t id, struct td_role *out);
/* Compare-and-set on r->revision (counted up): CONFLICT, NOT_FOUND, EXISTS,
 * DANGLING as above. */
int td_store_role_put(struct td_store *store, struct td_role *r);
/* Only at revision; *deleted gets the role. IN_USE, CONFLICT, NOT_FOUND. */
int td_store_role_delete(struct td_store *store, int64_t space_id, int64_t id,
			 int64_t revision, struct td_role *deleted);
typedef int (*td_role_cb)(const struct td_role *r, void *arg);
/* The space's roles in id order (the built-ins are not stored). */
int td_store_role_list(struct td_store *store, int64_t space_id, td_role_cb cb, void *arg);
/* What enforcement reads of each (flags, environments, inheritance), in id
 * order: one round trip, never the permission lists. */
int td_store_role_table(struct td_store *store, int64_t space_id, struct td_role_table *out);

/* One management call of caller in a space, against the space's limit
 * (else default_limit) per period_ms, shared by every worker and host. */
struct td_rate {
	int allowed;
	long long limit, remaining;
	long long reset_ms;		/* until the allowance is whole again */
	long long retry_after_ms;	/* when refused: until the next call may pass */
};
/* One rate limiter: caller names the counter ("pat:1", or
 * TD_RATE_SPACE_WRITES for the space's shared write rate); override is the
 * space field whose value, when set, replaces default_limit ("rl", "lw"). */
#define TD_RATE_SPACE_WRITES "*writes"
struct td_rate_check {
	const char *caller;
	const char *override;
	int default_limit;
};
#define TD_RATE_CHECKS_MAX 2
/* A call's start in one round trip: checks[0..n-1] in order (a limiter is
 * taken only when the ones before it allowed the call; out[i] of one not
 * taken says allowed with limit 0), then, with space, the space record:
 * TD_STORE_OK, or NOT_FOUND when there is no such space (space != NULL). */
int td_store_call_start(struct td_store *store, int64_t space_id, int period_ms,
			const struct td_rate_check *checks, int n, struct td_rate *out,
			struct td_space *space);
/* A call's start taken inside a write's own round trip (a create): the
 * limiters to take, as td_store_call_start's (n may be 0), what they
 * answered, and where the space record read goes. */
struct td_store_start {
	int period_ms;
	const struct td_rate_check *checks;
	int n;
	struct td_rate rates[TD_RATE_CHECKS_MAX];	/* out */
	struct td_space *space;				/* out */
	int space_found;				/* out: space was read */
};
/* The call's start (n >= 1) and the token (space_id, id) read with it, in
 * one round trip: RATE_LIMITED (start->rates say which), NOT_FOUND for no
 * such space (space_found 0) or token, else as td_store_token_get. */
int td_store_token_get_started(struct td_store *store, int64_t space_id, int64_t id,
			       struct td_token *out, struct td_store_start *start);
/* One limiter alone. */
int td_store_rate_check(struct td_store *store, int64_t space_id, const char *caller,
			const char *override, int default_limit, int period_ms,
			struct td_rate *out);

/* The activity logs: Redis streams capped near TD_ACTIVITIES_MAX. A space's
 * (space_id > 0) records what happened to its tokens; the account's
 * (TD_TRAIL_ACCOUNT) records personal access tokens and spaces made and
 * removed, which outlive any one space's trail. */
#define TD_ACTIVITIES_MAX 10000
#define TD_TRAIL_ACCOUNT 0
/* struct td_activity: core/core.h (views render it, and never include this) */
typedef int (*td_activity_cb)(const struct td_activity *a, void *arg);
int td_store_activity_add(struct td_store *store, int64_t space_id, const char *actor,
			  const char *action, int64_t resource_id);
/* Newest first, at most limit entries. */
int td_store_activity_list(struct td_store *store, int64_t space_id, int limit,
			   td_activity_cb cb, void *arg);

/* Personal access tokens. create writes p->id when it is > 0 (from
 * td_store_pat_next_id) and assigns one when it is 0; EXISTS when that id
 * is taken, QUOTA when its maker already has pats_per_owner live PATs.
 * delete leaves the set of what the PAT minted, as for tokens. */
int td_store_pat_create(struct td_store *store, struct td_pat *p, int pats_per_owner);
int td_store_pat_get(struct td_store *store, int64_t id, struct td_pat *out);
/* td_store_pat_get, the read tracked when tracking is live: *tracked 1
 * when a cache may keep what was read (OK or NOT_FOUND) until Redis says
 * the key changed. */
int td_store_pat_get_tracked(struct td_store *store, int64_t id, struct td_pat *out,
			     int *tracked);
int td_store_pat_delete(struct td_store *store, int64_t id, struct td_pat *deleted);
int td_store_pat_list(struct td_store *store, td_pat_cb cb, void *arg);

/* What a credential minted, for cascading revocation. A reference is
 * "p:<pat id>" or "t:<space id>:<token id>" (ids 1..INT64_MAX, canonical
 * decimal); a malformed one is TD_STORE_DOWN, logged, and no key is built
 * from it. The set of a parent lives in the parent's slot ({pats}:m:<id>,
 * {s:<space>}:m:<id>); deleting a space deletes its tokens' sets. */
int td_store_minted_add(struct td_store *store, const char *parent_ref, const char *child_ref);
/* cb for each child until it returns non-zero (then returned). A set of
 * more than TD_MINTED_MAX is TD_STORE_DOWN, logged, and never read whole. */
int td_store_minted_list(struct td_store *store, const char *parent_ref,
			 int (*cb)(const char *child_ref, void *arg), void *arg);
int td_store_minted_drop(struct td_store *store, const char *parent_ref);

#endif
