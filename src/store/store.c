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

static void
store_disconnect(struct td_store *store)
{
	store_tracking_end(store, NULL);	/* Redis forgets a closed client's tracking */
	if (store->redis != NULL) {
		redisFree(store->redis);
		store->redis = NULL;
	}
}

void
store_mark_down(struct td_store *store, const char *why)
{
	td_metric_count(TD_M_REDIS_ERROR);
	if (!store->reported_down)
		td_log_error("redis unavailable: %s", why);
	store->reported_down = 1;
	store_disconnect(store);
	store->next_attempt_ms = store_now_ms() + store->retry_interval_ms;
}

void
store_lost(struct td_store *store)
{
	store_mark_down(store, store->redis != NULL && store->redis->errstr[0]
			       ? store->redis->errstr : "I/O error");
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
store_open(const struct td_store *store, char *why, size_t whylen)
{
	struct timeval tv = ms_to_timeval(store->connect_timeout_ms);
	redisContext *c;

	c = store->url.is_unix ? redisConnectUnixWithTimeout(store->url.path, tv)
			       : redisConnectWithTimeout(store->node.host, store->node.port, tv);
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

/* 1 when the peer closed an idle connection: nothing is owed on it (no
 * reply pending, invalidations arrive on their own connection), so
 * anything readable is the end of the stream or an error. */
static int
idle_connection_closed(struct td_store *store, long long now)
{
	struct pollfd pfd = { .fd = store->redis->fd, .events = POLLIN };

	if (now - store->last_use_ms < STORE_IDLE_CHECK_MS)
		return 0;
	return poll(&pfd, 1, 0) != 0;
}

int
td_store_connect(struct td_store *store)
{
	long long now = store_now_ms();
	char why[128];

	if (store->redis != NULL && store_sentinel_watch(store)) {
		store_disconnect(store);	/* a failover: ask the sentinels again now */
		store->next_attempt_ms = 0;
	}
	if (store->redis != NULL) {
		if (!idle_connection_closed(store, now)) {
			store->last_use_ms = now;
			return 0;
		}
		td_log_info("redis closed an idle connection; reconnecting");
		store_disconnect(store);
	}
	store->last_use_ms = now;
	if (store_now_ms() < store->next_attempt_ms)
		return -1;
	if (store->url.is_sentinel && store_sentinel_resolve(store, why, sizeof(why)) != 0) {
		store_mark_down(store, why);
		return -1;
	}
	if ((store->redis = store_open(store, why, sizeof(why))) == NULL) {
		store_mark_down(store, why);
		return -1;
	}
	/* a sentinel's word may be one failover old */
	if (store->url.is_sentinel && !store_is_primary(store->redis)) {
		store_mark_down(store, "the node the sentinels named is not a primary (yet)");
		return -1;
	}
	td_metric_count(TD_M_REDIS_CONNECT);
	if (store->reported_down)
		td_log_info("redis reachable again");
	store->reported_down = 0;
	store_tracking_start(store);	/* may find the connection broken */
	return store->redis != NULL ? 0 : -1;
}

/* Every command goes through here: connect if needed, and on an I/O error
 * or timeout drop the connection so the next request starts clean (a
 * timed-out reply may still arrive and would desynchronise the stream). */
/* A write refused because the node is a replica now (a failover we have
 * not heard of yet): READONLY means it was not executed, so the caller may
 * send it again, once, to the primary the sentinels name now. */
static int
refused_readonly(struct td_store *store, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ERROR || strncmp(reply->str, "READONLY", 8) != 0)
		return 0;
	td_log_info("redis: the node is a replica now (READONLY); reconnecting");
	store_disconnect(store);
	store->next_attempt_ms = 0;
	return 1;
}

/* With redis_min_replica_acks, a write is acknowledged only once that many
 * replicas have it (WAIT): 1 when they confirmed in time. */
static int
replicas_confirm(struct td_store *store)
{
	redisReply *r = redisCommand(store->redis, "WAIT %d %d", store->min_replica_acks,
				     store->wait_timeout_ms);
	int ok = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer >= store->min_replica_acks;

	if (r == NULL)
		store_lost(store);
	else if (!ok)
		td_log_error("a write was not confirmed by %d replica(s) within %d ms: answered 503",
			     store->min_replica_acks, store->wait_timeout_ms);
	freeReplyObject(r);
	return ok;
}

redisReply *
store_vcommand(struct td_store *store, const char *fmt, va_list ap)
{
	redisReply *reply = NULL;
	va_list again;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (td_store_connect(store) != 0)
			return NULL;
		va_copy(again, ap);
		reply = redisvCommand(store->redis, fmt, again);
		va_end(again);
		if (reply == NULL) {
			store_lost(store);
			return NULL;
		}
		if (attempt > 0 || !refused_readonly(store, reply))
			break;
		freeReplyObject(reply);
		reply = NULL;
	}
	if (reply != NULL)
		store->barrier_pending = 0;
	return reply;
}

redisReply *
store_command(struct td_store *store, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = store_vcommand(store, fmt, ap);
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

redisReply *
store_script(struct td_store *store, enum store_script script, int nkeys, int argc,
	     const char *const *argv, const size_t *argvlen)
{
	const char *cmd[STORE_ARGS_MAX + 3];
	size_t lens[STORE_ARGS_MAX + 3];
	char sha[41], nk[12];
	redisReply *reply;
	int i, attempt, readonly = 0, writes = store_script_writes_records(script);

	if (argc > STORE_ARGS_MAX) {
		td_log_error("script %d: %d arguments, more than %d", script, argc, STORE_ARGS_MAX);
		return NULL;
	}
	script_sha(script, sha);
	snprintf(nk, sizeof(nk), "%d", nkeys);
	for (i = 0; i < argc; i++) {
		cmd[3 + i] = argv[i];
		lens[3 + i] = argvlen[i];
	}
	cmd[2] = nk;
	lens[2] = strlen(nk);
	for (attempt = 0; attempt < 2; attempt++) {
		if (td_store_connect(store) != 0)
			return NULL;
		cmd[0] = attempt == 0 ? "EVALSHA" : "EVAL";
		lens[0] = strlen(cmd[0]);
		cmd[1] = attempt == 0 ? sha : store_script_source[script];
		lens[1] = strlen(cmd[1]);
		reply = redisCommandArgv(store->redis, argc + 3, cmd, lens);
		if (reply == NULL) {
			store_lost(store);
			return NULL;
		}
		if (!readonly && refused_readonly(store, reply)) {
			freeReplyObject(reply);
			readonly = 1;
			attempt = -1;	/* the new primary: EVALSHA first again */
			continue;
		}
		if (attempt == 0 && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(reply);
			continue;
		}
		store->barrier_pending = store->on_invalidate != NULL && writes;
		if (writes && store->min_replica_acks > 0 && reply->type != REDIS_REPLY_ERROR) {
			if (!replicas_confirm(store)) {
				freeReplyObject(reply);
				return NULL;
			}
			store->barrier_pending = 0;	/* WAIT was the round trip */
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

	reply = store_command(store, "PING");
	if (reply == NULL)
		return -1;
	if (reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0)
		rc = 0;
	freeReplyObject(reply);
	return rc;
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
	memcpy(store->node.host, store->url.host, sizeof(store->node.host));
	store->node.port = store->url.port;
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
	store_disconnect(store);
	store->next_attempt_ms = 0;
	return store_apply(store, cfg);
}

void
td_store_free(struct td_store *store)
{
	if (store == NULL)
		return;
	store->on_invalidate = NULL;	/* its cache may be gone already */
	store_disconnect(store);
	store_sentinel_unwatch(store);
	explicit_bzero(store->url.password, sizeof(store->url.password));
	free(store);
}
