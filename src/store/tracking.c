/*
 * Redis client-side caching (CLIENT TRACKING, RESP2 redirect mode) for the
 * verify cache. hiredis 0.14 speaks RESP2 only, so invalidations come on a
 * second connection subscribed to __redis__:invalidate, and the data
 * connection tracks in OPTIN mode: only the verify path's reads, prefixed
 * with CLIENT CACHING yes, are tracked, so management traffic costs Redis
 * no tracking table and this worker no invalidation messages.
 *
 * Why the cache stays exact (the verify issue's "revoked is refused on the
 * very next request"):
 *  - a read is tracked before its reply is sent, so any later change to
 *    the key produces an invalidation for us;
 *  - td_store_tracking_sync reads every invalidation already delivered
 *    before the cache answers, without waiting;
 *  - a worker that changes a record makes one more round trip before
 *    answering its client (its next command, else a PING:
 *    td_store_write_barrier); Redis answers that in a later event-loop
 *    turn, after it has written the write's invalidations to every
 *    subscriber's socket, so they are in our receive buffer before the
 *    client can learn of the change (same host: the kernel delivers a Unix
 *    or loopback write at once; across hosts the notification travels one
 *    hop while the client's next request takes at least two);
 *  - anything that could lose a message (either connection dropped, Redis
 *    restarted or flushed, tracking refused) bumps tracking_gen and tells
 *    the cache to forget everything; reads tracked under an older
 *    generation are not cached.
 *
 * It must never let the cache answer while a message could have been lost,
 * nor block a request waiting for invalidations (it only reads what has
 * already arrived).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/server/log.h"
#include "tokend/server/parse.h"
#include "internal.h"

#define INVALIDATE_CHANNEL "__redis__:invalidate"
#define TRACKING_RETRY_MS 1000	/* after a refused setup */
/* A silent invalidation connection may be a dead one (a partition drops
 * packets without a reset): it is pinged when nothing came for PING_MS,
 * and the cache answers only while something came within SILENCE_MS; a
 * ping unanswered that long ends tracking (cache emptied and off), so a
 * host cut off from Redis stops answering from memory within a second
 * and fails closed. */
#define TRACKING_PING_MS 250
#define TRACKING_SILENCE_MS 1000

static void
tell(struct td_store *store, enum td_invalidate what, int64_t space_id, int64_t id)
{
	if (store->on_invalidate != NULL)
		store->on_invalidate(store->invalidate_arg, what, space_id, id);
}

void
td_store_on_invalidate(struct td_store *store, td_store_invalidate_fn *fn, void *arg)
{
	store->on_invalidate = fn;
	store->invalidate_arg = arg;
	if (fn == NULL)
		store_tracking_end(store, NULL);
	else if (store->redis != NULL)
		store_tracking_start(store);
}

void
store_tracking_end(struct td_store *store, const char *why)
{
	if (store->inval != NULL) {
		redisFree(store->inval);
		store->inval = NULL;
	}
	if (store->tracking && why != NULL)
		td_log_warn("verify cache emptied and paused: %s", why);
	store->tracking = 0;
	store->tracking_gen++;
	tell(store, TD_INVALIDATE_ALL, 0, 0);
}

static void
refused(struct td_store *store, const char *why)
{
	if (!store->tracking_reported)
		td_log_warn("verify cache off until Redis allows client tracking: %s", why);
	store->tracking_reported = 1;
	store_tracking_end(store, NULL);
	store->next_tracking_ms = store_now_ms() + TRACKING_RETRY_MS;
}

/* A reply of the expected type from c, else NULL with the reason copied
 * into why (logged once by refused(), not on every retry). */
static redisReply *
expect(redisContext *c, int type, char *why, size_t whylen, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		snprintf(why, whylen, "%s", c->errstr[0] ? c->errstr : "I/O error");
		return NULL;
	}
	if (r->type != type) {
		snprintf(why, whylen, "%s", r->type == REDIS_REPLY_ERROR ? r->str
								    : "unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

void
store_tracking_start(struct td_store *store)
{
	char why[128] = "out of memory";
	redisReply *r = NULL;
	long long id;

	if (store->on_invalidate == NULL || store->redis == NULL || store->tracking ||
	    store_now_ms() < store->next_tracking_ms)
		return;
	store_tracking_end(store, NULL);
	/* the data connection's own setup: same server, password, database */
	if ((store->inval = store_open(store, why, sizeof(why))) == NULL)
		goto fail;
	if ((r = expect(store->inval, REDIS_REPLY_INTEGER, why, sizeof(why),
			"CLIENT ID")) == NULL)
		goto fail;
	id = r->integer;
	freeReplyObject(r);
	if ((r = expect(store->inval, REDIS_REPLY_ARRAY, why, sizeof(why), "SUBSCRIBE %s",
			INVALIDATE_CHANNEL)) == NULL)
		goto fail;
	freeReplyObject(r);
	/* off first: Redis refuses to change the mode of a tracking client */
	if ((r = expect(store->redis, REDIS_REPLY_STATUS, why, sizeof(why),
			"CLIENT TRACKING off")) == NULL)
		goto fail;
	freeReplyObject(r);
	if ((r = expect(store->redis, REDIS_REPLY_STATUS, why, sizeof(why),
			"CLIENT TRACKING on REDIRECT %lld OPTIN", id)) == NULL)
		goto fail;
	freeReplyObject(r);
	store->tracking = 1;
	store->tracking_gen++;
	store->inval_heard_ms = store_now_ms();
	store->inval_ping_ms = 0;
	if (store->tracking_reported)
		td_log_info("verify cache on: Redis client tracking accepted");
	store->tracking_reported = 0;
	return;
fail:
	if (store->redis != NULL && store->redis->err)
		store_mark_down(store, why);
	else
		refused(store, why);
}

/* {s:<space>}:t:<id> or {s:<space>}:space; other keys are not cached. */
static void
invalidate_key(struct td_store *store, const char *k, size_t len)
{
	const char *end = k + len, *close = memchr(k, '}', len);
	long long space, id;

	if (len < 4 || memcmp(k, "{s:", 3) != 0 || close == NULL ||
	    td_parse_int64(k + 3, (size_t)(close - k - 3), INT64_MIN, INT64_MAX, &space) != 0)
		return;
	k = close + 1;
	if ((size_t)(end - k) == 6 && memcmp(k, ":space", 6) == 0)
		tell(store, TD_INVALIDATE_SPACE, space, 0);
	else if (end - k > 3 && memcmp(k, ":t:", 3) == 0 &&
		 td_parse_int64(k + 3, (size_t)(end - k - 3), 1, INT64_MAX, &id) == 0)
		tell(store, TD_INVALIDATE_TOKEN, space, id);
}

/* ["message", channel, keys] where keys is an array of key names, or nil
 * when Redis flushed everything (FLUSHALL/FLUSHDB, or its tracking table). */
static int
handle_message(struct td_store *store, const redisReply *m)
{
	const redisReply *keys;
	size_t i;

	/* a subscribed connection answers PING with ["pong", ""] */
	if (m->type == REDIS_REPLY_ARRAY && m->elements == 2 &&
	    m->element[0]->type == REDIS_REPLY_STRING && strcmp(m->element[0]->str, "pong") == 0)
		return 0;
	if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
	    m->element[0]->type != REDIS_REPLY_STRING || strcmp(m->element[0]->str, "message") != 0)
		return -1;
	keys = m->element[2];
	if (keys->type == REDIS_REPLY_NIL) {
		tell(store, TD_INVALIDATE_ALL, 0, 0);
	} else if (keys->type == REDIS_REPLY_STRING) {
		invalidate_key(store, keys->str, keys->len);
	} else if (keys->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < keys->elements; i++)
			if (keys->element[i]->type == REDIS_REPLY_STRING)
				invalidate_key(store, keys->element[i]->str,
					       keys->element[i]->len);
	} else {
		return -1;
	}
	return 0;
}

/* Pings a connection silent for TRACKING_PING_MS; 1 while the cache may
 * answer (heard from within TRACKING_SILENCE_MS), 0 after ending tracking
 * or while unsure. */
static int
tracking_alive(struct td_store *store)
{
	long long now = store_now_ms();
	int done = 0;

	if (store->inval_ping_ms != 0 && now - store->inval_ping_ms > TRACKING_SILENCE_MS) {
		store_tracking_end(store, "no answer on the invalidation connection");
		return 0;
	}
	if (store->inval_ping_ms == 0 && now - store->inval_heard_ms >= TRACKING_PING_MS) {
		if (redisAppendCommand(store->inval, "PING") != REDIS_OK) {
			store_tracking_end(store, "invalidation connection lost");
			return 0;
		}
		while (!done)
			if (redisBufferWrite(store->inval, &done) != REDIS_OK) {
				store_tracking_end(store, "invalidation connection lost");
				return 0;
			}
		store->inval_ping_ms = now;
	}
	return now - store->inval_heard_ms <= TRACKING_SILENCE_MS;
}

int
td_store_tracking_sync(struct td_store *store)
{
	struct pollfd p;
	redisReply *m;
	void *reply;
	int rc;

	if (store->on_invalidate == NULL)
		return 0;
	if (!store->tracking) {
		if (td_store_connect(store) == 0)
			store_tracking_start(store);
		return store->tracking;
	}
	p.fd = store->inval->fd;
	p.events = POLLIN;
	for (;;) {
		/* what hiredis already buffered, then whatever the socket holds */
		while ((rc = redisGetReplyFromReader(store->inval, &reply)) == REDIS_OK &&
		       reply != NULL) {
			m = reply;
			rc = handle_message(store, m);
			freeReplyObject(m);
			store->inval_heard_ms = store_now_ms();
			store->inval_ping_ms = 0;
			if (rc != 0) {
				store_tracking_end(store, "unexpected message on the invalidation channel");
				return 0;
			}
		}
		if (rc != REDIS_OK) {
			store_tracking_end(store, "invalidation stream unreadable");
			return 0;
		}
		p.revents = 0;
		rc = poll(&p, 1, 0);
		if (rc < 0)
			return 0;	/* unsure: do not trust the cache this once */
		if (rc == 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
			return tracking_alive(store);
		if (redisBufferRead(store->inval) != REDIS_OK) {
			store_tracking_end(store, "invalidation connection lost");
			return 0;
		}
	}
}

void
td_store_tracking_keepalive(struct td_store *store)
{
	/* only a live tracking connection: setting one up (a round trip that
	 * may wait out the command timeout) is left to the requests' path */
	if (store->on_invalidate != NULL && store->tracking)
		(void)td_store_tracking_sync(store);
}

void
td_store_write_barrier(void *arg)
{
	struct td_store *store = arg;
	redisReply *r;

	if (!store->barrier_pending)
		return;
	store->barrier_pending = 0;
	if (store->redis == NULL)
		return;	/* dropped since: the other workers' trackers were reset too */
	if ((r = redisCommand(store->redis, "PING")) == NULL) {
		store_lost(store);
		return;
	}
	freeReplyObject(r);
}
