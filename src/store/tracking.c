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
#define TRACKING_ROLE_CHECK_MS 250	/* node_still_primary */

static void
tell(struct td_store *store, enum td_invalidate what, int64_t space_id, int64_t id)
{
	if (store->on_invalidate != NULL)
		store->on_invalidate(store->invalidate_arg, what, space_id, id);
}

void
td_store_on_invalidate(struct td_store *store, td_store_invalidate_fn *fn, void *arg)
{
	int i;

	store->on_invalidate = fn;
	store->invalidate_arg = arg;
	for (i = 0; i < store->nlinks; i++) {
		if (fn == NULL)
			store_tracking_end(store, &store->links[i], NULL);
		else if (store->links[i].redis != NULL)
			store_tracking_start(store, &store->links[i]);
	}
}

void
store_tracking_reset(struct td_store *store)
{
	store->tracking_gen++;
	tell(store, TD_INVALIDATE_ALL, 0, 0);
}

void
store_tracking_end(struct td_store *store, struct store_link *link, const char *why)
{
	if (link->inval == NULL && !link->tracking)
		return;	/* nothing read through it can be cached */
	if (link->inval != NULL) {
		redisFree(link->inval);
		link->inval = NULL;
	}
	if (link->tracking && why != NULL)
		td_log_warn("verify cache emptied and paused: %s", why);
	link->tracking = 0;
	store_tracking_reset(store);
}

static void
refused(struct td_store *store, struct store_link *link, const char *why)
{
	if (!store->tracking_reported)
		td_log_warn("verify cache off until Redis allows client tracking: %s", why);
	store->tracking_reported = 1;
	store_tracking_end(store, link, NULL);
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
store_tracking_start(struct td_store *store, struct store_link *link)
{
	char why[128] = "out of memory";
	redisReply *r = NULL;
	long long id;

	if (store->on_invalidate == NULL || link->redis == NULL || link->tracking ||
	    store_now_ms() < store->next_tracking_ms)
		return;
	store_tracking_end(store, link, NULL);
	/* the data connection's own setup: same node, password, database */
	if ((link->inval = store_open(store, &link->node, why, sizeof(why))) == NULL)
		goto fail;
	if ((r = expect(link->inval, REDIS_REPLY_INTEGER, why, sizeof(why),
			"CLIENT ID")) == NULL)
		goto fail;
	id = r->integer;
	freeReplyObject(r);
	if ((r = expect(link->inval, REDIS_REPLY_ARRAY, why, sizeof(why), "SUBSCRIBE %s",
			INVALIDATE_CHANNEL)) == NULL)
		goto fail;
	freeReplyObject(r);
	/* off first: Redis refuses to change the mode of a tracking client */
	if ((r = expect(link->redis, REDIS_REPLY_STATUS, why, sizeof(why),
			"CLIENT TRACKING off")) == NULL)
		goto fail;
	freeReplyObject(r);
	if ((r = expect(link->redis, REDIS_REPLY_STATUS, why, sizeof(why),
			"CLIENT TRACKING on REDIRECT %lld OPTIN", id)) == NULL)
		goto fail;
	freeReplyObject(r);
	link->tracking = 1;
	store->tracking_gen++;
	link->inval_heard_ms = store_now_ms();
	link->inval_ping_ms = 0;
	if (store->tracking_reported)
		td_log_info("verify cache on: Redis client tracking accepted");
	store->tracking_reported = 0;
	return;
fail:
	if (link->redis != NULL && link->redis->err) {
		store->link = link;
		store_mark_down(store, why);
	} else {
		refused(store, link, why);
	}
}

/* {s:<space>}:t:<id>, {s:<space>}:space or {pats}:p:<id>; other keys are
 * not cached. */
static void
invalidate_key(struct td_store *store, const char *k, size_t len)
{
	const char *end = k + len, *close = memchr(k, '}', len);
	long long space, id;

	if (len > 9 && memcmp(k, "{pats}:p:", 9) == 0) {
		if (td_parse_int64(k + 9, len - 9, 1, INT64_MAX, &id) == 0)
			tell(store, TD_INVALIDATE_PAT, 0, id);
		return;
	}
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

/* Pings a link's invalidation connection silent for TRACKING_PING_MS; 1
 * while the cache may answer (heard from within TRACKING_SILENCE_MS), 0
 * after ending tracking or while unsure. */
static int
tracking_alive(struct td_store *store, struct store_link *link, long long now)
{
	int done = 0;

	if (link->inval_ping_ms != 0 && now - link->inval_ping_ms > TRACKING_SILENCE_MS) {
		store_tracking_end(store, link, "no answer on the invalidation connection");
		return 0;
	}
	if (link->inval_ping_ms == 0 && now - link->inval_heard_ms >= TRACKING_PING_MS) {
		if (redisAppendCommand(link->inval, "PING") != REDIS_OK) {
			store_tracking_end(store, link, "invalidation connection lost");
			return 0;
		}
		while (!done)
			if (redisBufferWrite(link->inval, &done) != REDIS_OK) {
				store_tracking_end(store, link, "invalidation connection lost");
				return 0;
			}
		link->inval_ping_ms = now;
	}
	return now - link->inval_heard_ms <= TRACKING_SILENCE_MS;
}

/* Every message hiredis already holds for a link: 0, or -1 after ending
 * its tracking. */
static int
drain(struct td_store *store, struct store_link *link)
{
	void *reply;
	int rc;

	while ((rc = redisGetReplyFromReader(link->inval, &reply)) == REDIS_OK && reply != NULL) {
		rc = handle_message(store, reply);
		freeReplyObject(reply);
		link->inval_heard_ms = store_now_ms();
		link->inval_ping_ms = 0;
		if (rc != 0) {
			store_tracking_end(store, link, "unexpected message on the invalidation channel");
			return -1;
		}
	}
	if (rc != REDIS_OK) {
		store_tracking_end(store, link, "invalidation stream unreadable");
		return -1;
	}
	return 0;
}

/* Whether every link with a data connection tracks (setting up the ones
 * that do not), and at least one does. */
static int
all_tracking(struct td_store *store)
{
	int i, any = 0;

	for (i = 0; i < store->nlinks; i++) {
		struct store_link *l = &store->links[i];

		if (l->tracking) {
			any = 1;
			continue;
		}
		if (l->redis == NULL)
			continue;
		store->link = l;	/* checked (an idle one may be closed), then set up */
		if (store_link_connect(store) != 0)
			return 0;
		store_tracking_start(store, l);
		if (!l->tracking)
			return 0;
		any = 1;
	}
	if (!any && td_store_connect(store) == 0)
		return store->link->tracking;
	return any;
}

/* Whether a tracking link's node is still a primary (and on a cluster, one
 * that reaches a majority of the primaries: no failover can have replaced
 * it), asked at most every TRACKING_ROLE_CHECK_MS: a node demoted by a
 * failover, or cut off from the cluster's majority, keeps its invalidation
 * connection alive, but another node may take the writes for its keys, and
 * their invalidations would never reach us. A cluster promotes a replica
 * only after its node timeout and a vote (Sentinel after
 * down-after-milliseconds); the cache stops answering from a node within
 * this check's period of its losing the role or the majority. Another
 * primary's failure does not stop it: no one writes this node's keys
 * meanwhile. One extra round trip for one request per period; a plain
 * redis:// has no failover and is not asked. */
static int
node_still_primary(struct td_store *store, struct store_link *link, long long now)
{
	redisReply *role = NULL, *info = NULL;
	int cluster = store->url.is_cluster, ok = 0;

	if ((!cluster && !store->url.is_sentinel) || link->redis == NULL ||
	    now - link->role_checked_ms < TRACKING_ROLE_CHECK_MS)
		return link->redis != NULL;
	/* CLUSTER INFO is small: a primary in a minority says cluster_state:fail
	 * (Redis's own rule); only then, or while a slot is uncovered (another
	 * primary failed), is CLUSTER NODES, which grows with the cluster,
	 * asked to tell the two apart */
	if (redisAppendCommand(link->redis, "ROLE") != REDIS_OK ||
	    (cluster && redisAppendCommand(link->redis, "CLUSTER INFO") != REDIS_OK) ||
	    redisGetReply(link->redis, (void **)&role) != REDIS_OK ||
	    (cluster && redisGetReply(link->redis, (void **)&info) != REDIS_OK))
		goto done;
	ok = role->type == REDIS_REPLY_ARRAY && role->elements > 0 &&
	     role->element[0]->type == REDIS_REPLY_STRING &&
	     strcmp(role->element[0]->str, "master") == 0;
	if (ok && cluster && (info->type != REDIS_REPLY_STRING ||
			      strstr(info->str, "cluster_state:ok") == NULL)) {
		freeReplyObject(info);
		info = redisCommand(link->redis, "CLUSTER NODES");
		ok = info != NULL && info->type == REDIS_REPLY_STRING &&
		     td_redis_cluster_view_trusted(info->str, 1);
	}
done:
	freeReplyObject(role);
	freeReplyObject(info);
	if (ok) {
		link->role_checked_ms = now;
		return 1;
	}
	/* closed (Sentinel kills a demoted node's clients), or not a primary:
	 * either way the next command connects afresh, at once */
	if (link->redis == NULL || link->redis->err)
		td_log_info("redis: %s:%d closed the connection; reconnecting", link->node.host,
			    link->node.port);
	else
		td_log_info("redis: %s:%d is not a primary reaching a majority any more; "
			    "verify cache emptied", link->node.host, link->node.port);
	store_link_close(store, link);
	link->next_attempt_ms = 0;
	store->map_stale = 1;
	return 0;
}

/* One poll over every link's invalidation connection, reading what came,
 * until nothing more has arrived; never waits for a message. With setup,
 * links not tracking yet are set up first (the requests' path); without,
 * only live ones are looked at (an idle worker's keepalive). */
static int
sync_links(struct td_store *store, int setup)
{
	struct pollfd p[2 * TD_CLUSTER_PRIMARIES_MAX];
	struct store_link *of[TD_CLUSTER_PRIMARIES_MAX];
	long long now = store_now_ms();
	int i, n = 0, rc, alive = 1;

	if (store->on_invalidate == NULL || (setup && !all_tracking(store)))
		return 0;
	for (i = 0; i < store->nlinks; i++)
		if (store->links[i].tracking) {
			if (!node_still_primary(store, &store->links[i], now))
				return 0;
			of[n] = &store->links[i];
			p[n].fd = of[n]->inval->fd;
			p[n++].events = POLLIN;
		}
	if (n == 0)
		return 0;
	/* each data connection too, p[n + i]: it owes nothing between requests
	 * (no reply pending: a list's pipeline is not read from here), so
	 * anything readable is its end — Redis's idle timeout, CLIENT KILL, a
	 * reset — and with it Redis forgot what it read there: no invalidation
	 * will come for those keys, on the connection that is still alive */
	for (i = 0; i < n; i++) {
		p[n + i].fd = of[i]->busy ? -1 : of[i]->redis->fd;
		p[n + i].events = POLLIN | POLLRDHUP;
	}
	for (;;) {
		for (i = 0; i < n; i++)
			if (drain(store, of[i]) != 0)
				return 0;
		for (i = 0; i < 2 * n; i++)
			p[i].revents = 0;
		if ((rc = poll(p, (nfds_t)(2 * n), 0)) < 0)
			return 0;	/* unsure: do not trust the cache this once */
		for (i = 0; i < n; i++)
			if (p[n + i].revents != 0) {
				/* closed, not down: the next command reconnects at once */
				td_log_info("redis closed a connection; its tracking ends with it");
				store_link_close(store, of[i]);
				return 0;
			}
		if (rc == 0)
			break;
		for (i = 0; i < n; i++)
			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    redisBufferRead(of[i]->inval) != REDIS_OK) {
				store_tracking_end(store, of[i], "invalidation connection lost");
				return 0;
			}
	}
	now = store_now_ms();
	for (i = 0; i < n; i++)
		alive &= tracking_alive(store, of[i], now);
	return alive;
}

int
td_store_tracking_sync(struct td_store *store)
{
	return sync_links(store, 1);
}

void
td_store_tracking_keepalive(struct td_store *store)
{
	/* only live tracking connections: setting one up (a round trip that
	 * may wait out the command timeout) is left to the requests' path */
	(void)sync_links(store, 0);
}

void
td_store_write_barrier(void *arg)
{
	struct td_store *store = arg;
	redisReply *r;
	int i;

	for (i = 0; i < store->nlinks; i++) {
		struct store_link *l = &store->links[i];

		if (!l->barrier_pending || l->busy)
			continue;	/* busy: a list's pipeline, no write of its own */
		l->barrier_pending = 0;
		if (l->redis == NULL)
			continue;	/* dropped since: the other workers' trackers were reset too */
		if ((r = redisCommand(l->redis, "PING")) == NULL) {
			store->link = l;
			store_lost(store);
			continue;
		}
		freeReplyObject(r);
	}
}
