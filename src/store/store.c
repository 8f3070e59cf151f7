/*
 * Redis connection handling. hiredis (0.14 on Debian 12) does the protocol;
 * this file owns the connection's lifetime and its failure policy: how a
 * connection is opened, authenticated and put on its database (for the
 * tracking connection too), when it is dropped, and when it is retried.
 * It must never log the password, nor wait out a connect timeout on every
 * request while Redis is down.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

#include <openssl/sha.h>

#include "tokend/server/log.h"
#include "tokend/server/metrics.h"
#include "tokend/server/parse.h"
#include "internal.h"
#include "scripts.h"

long long
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval
ms_to_timeval(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

void
store_link_close(struct td_store *store, struct store_link *link)
{
	store_tracking_end(store, link, NULL);	/* Redis forgets a closed client's tracking */
	if (link->redis != NULL) {
		redisFree(link->redis);
		link->redis = NULL;
	}
}

void
store_mark_down(struct td_store *store, const char *why)
{
	struct store_link *link = store->link;

	td_metric_count(TD_M_REDIS_ERROR);
	if (!link->reported_down && store->url.is_cluster)
		td_log_error("redis unavailable: %s:%d: %s", link->node.host, link->node.port, why);
	else if (!link->reported_down)
		td_log_error("redis unavailable: %s", why);
	link->reported_down = 1;
	store_link_close(store, link);
	link->next_attempt_ms = store_now_ms() + store->retry_interval_ms;
	store->map_stale = 1;	/* on a cluster, the node may have failed over */
}

void
store_lost(struct td_store *store)
{
	redisContext *c = store->link->redis;

	store_mark_down(store, c != NULL && c->errstr[0] ? c->errstr : "I/O error");
}

/* One setup command (AUTH, SELECT) on a fresh connection. An error reply
 * is reported as refused, without its text: AUTH's could echo a secret. */
static int
setup_command(redisContext *c, char *why, size_t whylen, const char *refused,
	      const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;
	int rc = -1;

	va_start(ap, fmt);
	reply = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (reply == NULL)
		snprintf(why, whylen, "%s", c->errstr[0] ? c->errstr : "I/O error");
	else if (reply->type == REDIS_REPLY_ERROR)
		snprintf(why, whylen, "%s", refused);
	else
		rc = 0;
	freeReplyObject(reply);
	return rc;
}

redisContext *
store_open(const struct td_store *store, const struct td_redis_node *node, char *why,
	   size_t whylen)
{
	struct timeval tv = ms_to_timeval(store->connect_timeout_ms);
	redisContext *c;

	c = store->url.is_unix ? redisConnectUnixWithTimeout(store->url.path, tv)
			       : redisConnectWithTimeout(node->host, node->port, tv);
	if (c == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (c->err) {
		snprintf(why, whylen, "%s", c->errstr);
		goto fail;
	}
	if (redisSetTimeout(c, ms_to_timeval(store->command_timeout_ms)) != REDIS_OK) {
		snprintf(why, whylen, "cannot set command timeout");
		goto fail;
	}
	if (!store->url.is_unix)
		redisEnableKeepAlive(c);
	if (store->url.user[0] != '\0' &&
	    setup_command(c, why, whylen, "AUTH refused", "AUTH %s %s", store->url.user,
			  store->url.password) != 0)
		goto fail;
	if (store->url.user[0] == '\0' && store->url.password[0] != '\0' &&
	    setup_command(c, why, whylen, "AUTH refused", "AUTH %s", store->url.password) != 0)
		goto fail;
	if (store->url.db != 0 &&
	    setup_command(c, why, whylen, "SELECT refused", "SELECT %d", store->url.db) != 0)
		goto fail;
	return c;
fail:
	redisFree(c);
	return NULL;
}

/* A connection idle this long is checked before use: Redis closes its
 * clients when it restarts (or times them out), and a command sent into a
 * closed connection fails the request that sent it. Busy connections skip
 * the check (no syscall on the hot path). */
#define STORE_IDLE_CHECK_MS 100
/* On Sentinel, how often a connection's node is asked whether it is still
 * the primary (one ROLE per second per worker). */
#define STORE_ROLE_CHECK_MS 1000

/* 1 when the peer closed an idle connection: nothing is owed on it (no
 * reply pending, invalidations arrive on their own connection), so
 * anything readable is the end of the stream or an error. */
static int
idle_connection_closed(const struct store_link *link, long long now)
{
	struct pollfd pfd = { .fd = link->redis->fd, .events = POLLIN };

	if (now - link->last_use_ms < STORE_IDLE_CHECK_MS)
		return 0;
	return poll(&pfd, 1, 0) != 0;
}

/* Whether an open link may be used as it is: on Sentinel, not after a
 * switch was announced nor once its node stopped being the primary. */
static int
link_still_good(struct td_store *store, struct store_link *link, long long now)
{
	if (!store->url.is_sentinel)
		return 1;
	if (store_sentinel_watch(store))
		return 0;	/* a failover: ask the sentinels again now */
	if (now - link->role_checked_ms < STORE_ROLE_CHECK_MS)
		return 1;
	/* demoted with no word from a sentinel (an old primary back, made a
	 * replica): leave it within a second */
	link->role_checked_ms = now;
	if (store_is_primary(link->redis))
		return 1;
	td_log_info("redis: the node is not the primary any more; reconnecting");
	return 0;
}

int
store_link_connect(struct td_store *store)
{
	struct store_link *link = store->link;
	long long now = store_now_ms();
	char why[128];

	if (link->redis != NULL && !link_still_good(store, link, now)) {
		store_link_close(store, link);
		link->next_attempt_ms = 0;
	}
	if (link->redis != NULL) {
		if (!idle_connection_closed(link, now)) {
			link->last_use_ms = now;
			return 0;
		}
		td_log_info("redis closed an idle connection; reconnecting");
		store_link_close(store, link);
	}
	link->last_use_ms = now;
	if (now < link->next_attempt_ms)
		return -1;
	if (store->url.is_sentinel && store_sentinel_resolve(store, why, sizeof(why)) != 0) {
		store_mark_down(store, why);
		return -1;
	}
	if ((link->redis = store_open(store, &link->node, why, sizeof(why))) == NULL) {
		store_mark_down(store, why);
		return -1;
	}
	/* a sentinel's word may be one failover old */
	if (store->url.is_sentinel && !store_is_primary(link->redis)) {
		store_mark_down(store, "the node the sentinels named is not a primary (yet)");
		return -1;
	}
	link->role_checked_ms = store_now_ms();
	td_metric_count(TD_M_REDIS_CONNECT);
	if (link->reported_down)
		td_log_info("redis reachable again");
	link->reported_down = 0;
	store_tracking_start(store, link);	/* may find the connection broken */
	return link->redis != NULL ? 0 : -1;
}

/* store->link connected, unless a pipeline's replies are still pending on
 * it: nothing else may touch that connection (not even the checks of an
 * idle or demoted one) until they are read. */
static int
link_ready(struct td_store *store)
{
	if (store->link->busy) {
		td_log_error("redis: a command for a connection whose pipeline is unread");
		return -1;
	}
	return store_link_connect(store);
}

int
store_route(struct td_store *store, const char *key, size_t keylen)
{
	if (store->url.is_cluster && store_cluster_pick(store, key, keylen) != 0)
		return -1;
	return link_ready(store);
}

int
td_store_connect(struct td_store *store)
{
	return store_route(store, NULL, 0);
}

/* A write refused because the node is a replica now (a Sentinel failover
 * we have not heard of yet): READONLY means it was not executed, so the
 * caller may send it again, once, to the primary the sentinels name now. */
static int
refused_readonly(struct td_store *store, const redisReply *reply)
{
	if (!store->url.is_sentinel || reply->type != REDIS_REPLY_ERROR ||
	    strncmp(reply->str, "READONLY", 8) != 0)
		return 0;
	td_log_info("redis: the node is a replica now (READONLY); reconnecting");
	store_link_close(store, store->link);
	store->link->next_attempt_ms = 0;
	return 1;
}

/* With redis_min_replica_acks, a write is acknowledged only once that many
 * of its node's replicas have it (WAIT). */
int
store_confirm_write(struct td_store *store)
{
	redisReply *r;
	int ok;

	if (store->min_replica_acks == 0)
		return 0;
	if (store->link->redis == NULL)
		return -1;
	r = redisCommand(store->link->redis, "WAIT %d %d", store->min_replica_acks,
			 store->wait_timeout_ms);
	ok = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer >= store->min_replica_acks;
	if (r == NULL)
		store_lost(store);
	else if (!ok)
		td_log_error("a write was not confirmed by %d replica(s) within %d ms: answered 503",
			     store->min_replica_acks, store->wait_timeout_ms);
	freeReplyObject(r);
	if (ok)
		store->link->barrier_pending = 0;	/* WAIT was a round trip */
	return ok ? 0 : -1;
}

/* How many times one command follows the cluster (a MOVED, an ASK) before
 * the request answers 503 (the specification's suggested bound), and the
 * waits for a TRYAGAIN (a multi-key script while its slot is half
 * migrated): 10 ms, doubled up to 100 ms. All of it, redirections and
 * waits, within redis_command_timeout_ms. A CLUSTERDOWN is waited out for
 * STORE_CLUSTERDOWN_WAIT_MS only: right after a promotion the other
 * primaries say it for the moment they take to hear of it (the map has
 * changed, the cache was emptied, and healthy primaries' tokens are read
 * again), but before the promotion it lasts seconds, and a worker waiting
 * that out would stall every request queued behind this one. */
#define STORE_CLUSTER_TRIES 16
#define STORE_CLUSTER_BACKOFF_MS 10
#define STORE_CLUSTER_BACKOFF_MAX_MS 100
#define STORE_CLUSTERDOWN_WAIT_MS 150

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
store_append(struct td_store *store, int argc, const char **argv)
{
	size_t lens[STORE_APPEND_ARGS_MAX];
	sds cmd = NULL;
	int i, len, rc;

	if (argc > STORE_APPEND_ARGS_MAX)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if ((len = redisFormatSdsCommandArgv(&cmd, argc, argv, lens)) < 0)
		return -1;
	rc = redisAppendFormattedCommand(store->link->redis, cmd, (size_t)len);
	sdsfree(cmd);
	return rc == REDIS_OK ? 0 : -1;
}

/* Sends cmd, a command already in the protocol's form, on a link; with
 * asking, ASKING first (an ASK redirection: this key, this once). */
static redisReply *
send_formatted(struct td_store *store, const char *cmd, size_t len, int asking)
{
	redisContext *c = store->link->redis;
	void *reply = NULL;

	if ((asking && redisAppendCommand(c, "ASKING") != REDIS_OK) ||
	    redisAppendFormattedCommand(c, cmd, len) != REDIS_OK) {
		store_mark_down(store, "out of memory");
		return NULL;
	}
	if (asking) {
		if (redisGetReply(c, &reply) != REDIS_OK) {
			store_lost(store);
			return NULL;
		}
		freeReplyObject(reply);
		reply = NULL;
	}
	if (redisGetReply(c, &reply) != REDIS_OK) {
		store_lost(store);
		return NULL;
	}
	return reply;
}

/* Runs cmd on the node that serves key, following the cluster (a bounded
 * number of redirections and, with wait, TRYAGAIN waits) and, on Sentinel,
 * one READONLY; the reply (an error reply as is), NULL when Redis is
 * unreachable or the cluster did not settle. store->link is then the node
 * that ran it. */
static redisReply *
store_run(struct td_store *store, const char *key, const char *cmd, size_t len, int wait)
{
	long long start = store_now_ms(), deadline = start + store->command_timeout_ms;
	struct store_link *ask = NULL;
	enum store_redirect redirect;
	redisReply *reply;
	int tries, waits, readonly = 0, backoff = STORE_CLUSTER_BACKOFF_MS;

	for (tries = 0; tries < STORE_CLUSTER_TRIES; tries++) {
		if (ask != NULL)
			store->link = ask;
		if ((ask != NULL ? link_ready(store)
				 : store_route(store, key, key != NULL ? strlen(key) : 0)) != 0)
			return NULL;
		if ((reply = send_formatted(store, cmd, len, ask != NULL)) == NULL)
			return NULL;
		ask = NULL;
		if (!readonly && refused_readonly(store, reply)) {
			readonly = 1;
			tries--;	/* not the cluster's: a Sentinel failover */
			freeReplyObject(reply);
			continue;
		}
		redirect = store_cluster_redirect(store, reply, &ask);
		if (redirect == REDIRECT_NONE)
			return reply;
		if (redirect == REDIRECT_CLUSTERDOWN && deadline > start + STORE_CLUSTERDOWN_WAIT_MS)
			deadline = start + STORE_CLUSTERDOWN_WAIT_MS;
		waits = redirect == REDIRECT_RETRY || redirect == REDIRECT_CLUSTERDOWN;
		if (redirect == REDIRECT_DOWN || (redirect == REDIRECT_RETRY && !wait) ||
		    store_now_ms() + (waits ? backoff : 0) > deadline) {
			td_log_error("redis cluster: %.100s: answered 503", reply->str);
			freeReplyObject(reply);
			return NULL;
		}
		freeReplyObject(reply);
		if (waits) {
			sleep_ms(backoff);
			backoff = backoff * 2 < STORE_CLUSTER_BACKOFF_MAX_MS
				  ? backoff * 2 : STORE_CLUSTER_BACKOFF_MAX_MS;
			tries--;	/* bounded by the deadline */
		}
	}
	td_log_error("redis cluster: no node took a command after %d tries", STORE_CLUSTER_TRIES);
	return NULL;
}

redisReply *
store_vcommand(struct td_store *store, const char *key, const char *fmt, va_list ap)
{
	redisReply *reply;
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, fmt, ap);

	if (len < 0) {
		td_log_error("redis: cannot format a command (out of memory)");
		return NULL;
	}
	reply = store_run(store, key, cmd, (size_t)len, 1);
	redisFreeCommand(cmd);
	if (reply != NULL)
		store->link->barrier_pending = 0;
	return reply;
}

redisReply *
store_command(struct td_store *store, const char *key, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = store_vcommand(store, key, fmt, ap);
	va_end(ap);
	return reply;
}

static void
script_sha(enum store_script script, char out[41])
{
	static char cache[SCRIPT__MAX][41];
	unsigned char md[SHA_DIGEST_LENGTH];
	int i;

	if (cache[script][0] == '\0') {
		SHA1((const unsigned char *)store_script_source[script],
		     strlen(store_script_source[script]), md);
		for (i = 0; i < SHA_DIGEST_LENGTH; i++)
			snprintf(cache[script] + 2 * i, 3, "%02x", md[i]);
	}
	memcpy(out, cache[script], 41);
}

/* A script's keys must share one hash slot: on a cluster the node that
 * runs it holds only its own slots (and a layout mistake shows here, on a
 * single Redis too, not first in production on a cluster). */
static int
keys_share_a_slot(int nkeys, const char *const *argv, const size_t *argvlen)
{
	unsigned slot = nkeys > 0 ? td_redis_key_slot(argv[0], argvlen[0]) : 0;
	int i;

	for (i = 1; i < nkeys; i++)
		if (td_redis_key_slot(argv[i], argvlen[i]) != slot)
			return 0;
	return 1;
}

/* A script call in the protocol's form: EVALSHA (attempt 0), or EVAL with
 * its source (which the node caches again). -1 logged: bad keys, or out
 * of memory. */
static int
format_script(enum store_script script, int nkeys, int argc, const char *const *argv,
	      const size_t *argvlen, int attempt, sds *out)
{
	const char *cmd[STORE_ARGS_MAX + 3];
	size_t lens[STORE_ARGS_MAX + 3];
	char sha[41], nk[12];
	int i, len;

	if (argc > STORE_ARGS_MAX || nkeys < 1 || nkeys > argc ||
	    argvlen[0] >= STORE_KEY_MAX || !keys_share_a_slot(nkeys, argv, argvlen)) {
		td_log_error("script %d: %d keys of other slots, or %d arguments (at most %d)",
			     script, nkeys, argc, STORE_ARGS_MAX);
		return -1;
	}
	snprintf(nk, sizeof(nk), "%d", nkeys);
	for (i = 0; i < argc; i++) {
		cmd[3 + i] = argv[i];
		lens[3 + i] = argvlen[i];
	}
	cmd[2] = nk;
	lens[2] = strlen(nk);
	if (attempt == 0)
		script_sha(script, sha);
	cmd[0] = attempt == 0 ? "EVALSHA" : "EVAL";
	lens[0] = strlen(cmd[0]);
	cmd[1] = attempt == 0 ? sha : store_script_source[script];
	lens[1] = strlen(cmd[1]);
	/* the sds form: hiredis's plain one formats each length with sprintf,
	 * ten times the cost for a record's sixty arguments */
	if ((len = redisFormatSdsCommandArgv(out, argc + 3, cmd, lens)) < 0) {
		td_log_error("script %d: cannot format (out of memory)", script);
		return -1;
	}
	return 0;
}

/* What follows a script's answer (ran: not an error): the write barrier
 * owed, and the replicas' WAIT for a write that must survive a failover.
 * 0, or -1 when that WAIT failed (the store is down). */
static int
script_done(struct td_store *store, enum store_script script, int ran)
{
	store->link->barrier_pending = store->on_invalidate != NULL &&
				       store_script_writes_records(script);
	return ran && store_script_writes(script) ? store_confirm_write(store) : 0;
}

redisReply *
store_script(struct td_store *store, enum store_script script, int nkeys, int argc,
	     const char *const *argv, const size_t *argvlen)
{
	char key[STORE_KEY_MAX];
	sds formatted;
	redisReply *reply;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		/* EVALSHA; EVAL when the node answers NOSCRIPT: each node has
		 * its own script cache */
		if (format_script(script, nkeys, argc, argv, argvlen, attempt, &formatted) != 0)
			return NULL;
		memcpy(key, argv[0], argvlen[0]);
		key[argvlen[0]] = '\0';
		/* the rate limiter is best effort (a call without its counter
		 * goes on): it does not wait out a half-migrated slot */
		reply = store_run(store, key, formatted, sdslen(formatted),
				  script != SCRIPT_RATE_CHECK);
		sdsfree(formatted);
		if (reply == NULL)
			return NULL;
		if (attempt == 0 && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(reply);
			continue;
		}
		if (script_done(store, script, reply->type != REDIS_REPLY_ERROR) != 0) {
			freeReplyObject(reply);
			return NULL;
		}
		return reply;
	}
	return NULL;
}

int
td_store_ping(struct td_store *store)
{
	redisReply *reply;
	int rc = -1;

	reply = store_command(store, NULL, "PING");
	if (reply == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0)
		rc = 0;
	freeReplyObject(reply);
	return rc;
}

static void
close_all(struct td_store *store)
{
	int i;

	for (i = 0; i < store->nlinks; i++)
		store_link_close(store, &store->links[i]);
}

static int
store_apply(struct td_store *store, const struct td_config *cfg)
{
	char err[256];

	if (td_redis_url_parse(cfg->redis_url, &store->url, err, sizeof(err)) != 0) {
		td_log_error("%s", err);
		return -1;
	}
	if (cfg->redis_password[0] != '\0')
		snprintf(store->url.password, sizeof(store->url.password), "%s", cfg->redis_password);
	memset(store->links, 0, sizeof(store->links));
	store->nlinks = 1;
	store->link = &store->links[0];
	/* one node, or the one the sentinels name; a cluster's come from its map */
	memcpy(store->links[0].node.host, store->url.host, sizeof(store->links[0].node.host));
	store->links[0].node.port = store->url.port;
	store->links[0].used = !store->url.is_cluster;
	memset(store->slot_link, STORE_NO_LINK, sizeof(store->slot_link));
	store->map_known = 0;
	store->map_stale = 1;
	store->map_next_ms = 0;
	store->sentinel_last = 0;
	store_sentinel_unwatch(store);
	store->min_replica_acks = cfg->redis_min_replica_acks;
	store->wait_timeout_ms = cfg->redis_wait_timeout_ms;
	store->connect_timeout_ms = cfg->redis_connect_timeout_ms;
	store->command_timeout_ms = cfg->redis_command_timeout_ms;
	store->retry_interval_ms = cfg->redis_retry_interval_ms;
	return 0;
}

struct td_store *
td_store_new(const struct td_config *cfg)
{
	struct td_store *store = calloc(1, sizeof(*store));

	if (store == NULL)
		return NULL;
	if (store_apply(store, cfg) != 0) {
		free(store);
		return NULL;
	}
	return store;
}

int
td_store_reconfigure(struct td_store *store, const struct td_config *cfg)
{
	close_all(store);
	return store_apply(store, cfg);
}

void
td_store_free(struct td_store *store)
{
	if (store == NULL)
		return;
	store->on_invalidate = NULL;	/* its cache may be gone already */
	close_all(store);
	store_sentinel_unwatch(store);
	explicit_bzero(store->url.password, sizeof(store->url.password));
	free(store);
}
