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

int
td_redis_url_parse(const char *url, struct td_redis_url *out, char *err, size_t errlen)
{
	const char *p, *at, *slash, *colon, *q;
	long long n;
	size_t len;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		p = url + 7;
		q = strchr(p, '?');
		len = q ? (size_t)(q - p) : strlen(p);
		if (len == 0 || p[0] != '/' || len >= sizeof(out->path)) {
			snprintf(err, errlen, "invalid value for redis_url: want unix:///absolute/path");
			return -1;
		}
		memcpy(out->path, p, len);
		out->path[len] = '\0';
		out->is_unix = 1;
		if (q != NULL) {
			if (strncmp(q, "?db=", 4) != 0 ||
			    td_parse_int64(q + 4, strlen(q + 4), 0, TD_REDIS_DB_MAX, &n) != 0) {
				snprintf(err, errlen, "invalid value for redis_url: want ?db=0..%d",
					 TD_REDIS_DB_MAX);
				return -1;
			}
			out->db = (int)n;
		}
		return 0;
	}
	if (strncmp(url, "rediss://", 9) == 0) {
		snprintf(err, errlen, "invalid value for redis_url: rediss:// (TLS) is not available: "
			 "Debian 12's hiredis (0.14) has no TLS; reach a remote Redis through a "
			 "local TLS tunnel (stunnel, see the README) at redis://127.0.0.1:PORT");
		return -1;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(err, errlen, "invalid value for redis_url: want redis:// or unix://");
		return -1;
	}
	p = url + 8;
	at = strrchr(p, '@');
	if (at != NULL) {
		/* userinfo is [user]:password, both percent-encoded; a user
		 * names a Redis 6 ACL user (AUTH user password) */
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon == NULL ||
		    td_percent_decode(p, (size_t)(colon - p), out->user, sizeof(out->user)) < 0 ||
		    td_percent_decode(colon + 1, (size_t)(at - colon - 1), out->password,
				      sizeof(out->password)) < 0) {
			snprintf(err, errlen, "invalid value for redis_url: bad user:password part");
			return -1;
		}
		p = at + 1;
	}
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', len);
	if (colon != NULL) {
		if (td_parse_int64(colon + 1, (size_t)(p + len - colon - 1), 1, 65535, &n) != 0) {
			snprintf(err, errlen, "invalid value for redis_url: bad port");
			return -1;
		}
		out->port = (int)n;
		len = (size_t)(colon - p);
	}
	if (len == 0 || len >= sizeof(out->host)) {
		snprintf(err, errlen, "invalid value for redis_url: missing host");
		return -1;
	}
	memcpy(out->host, p, len);
	out->host[len] = '\0';
	if (slash != NULL && slash[1] != '\0') {
		if (td_parse_int64(slash + 1, strlen(slash + 1), 0, TD_REDIS_DB_MAX, &n) != 0) {
			snprintf(err, errlen, "invalid value for redis_url: database must be 0..%d",
				 TD_REDIS_DB_MAX);
			return -1;
		}
		out->db = (int)n;
	}
	return 0;
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
			       : redisConnectWithTimeout(store->url.host, store->url.port, tv);
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
	if ((store->redis = store_open(store, why, sizeof(why))) == NULL) {
		store_mark_down(store, why);
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
redisReply *
store_vcommand(struct td_store *store, const char *fmt, va_list ap)
{
	redisReply *reply;

	if (td_store_connect(store) != 0)
		return NULL;
	reply = redisvCommand(store->redis, fmt, ap);
	if (reply == NULL)
		store_lost(store);
	else
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
	int i, attempt;

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
		if (attempt == 0 && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(reply);
			continue;
		}
		store->barrier_pending = store->on_invalidate != NULL &&
					 store_script_writes_records(script);
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
	explicit_bzero(store->url.password, sizeof(store->url.password));
	free(store);
}
