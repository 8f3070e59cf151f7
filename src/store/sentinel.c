/*
 * Redis Sentinel (redis_url = redis-sentinel://…/MASTER_NAME): which node
 * is the primary, and when that changes.
 *
 *  - Before each new data connection the sentinels are asked in turn
 *    (SENTINEL get-master-addr-by-name), starting with the one that
 *    answered last; the node they name is then asked ROLE, and only a node
 *    that says "master" is used (a sentinel's view may be stale by one
 *    failover). The data and the tracking connections both go to that one
 *    node (store->node).
 *  - The sentinel that answered is also subscribed to (+switch-master) on a
 *    connection of its own; store_sentinel_watch reads what has arrived,
 *    never waiting, before each command. A switch for our master drops
 *    the data connection (and with it tracking and the verify cache), so
 *    the next command asks the sentinels again: no request goes to the old
 *    primary after the switch is known.
 *  - A write refused with READONLY (the node was demoted before we heard)
 *    drops the connection too and is sent once more (store.c): READONLY
 *    means it was not executed.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "tokend/server/log.h"
#include "internal.h"

static redisContext *
open_sentinel(const struct td_store *store, const struct td_redis_node *s)
{
	struct timeval tv = { store->connect_timeout_ms / 1000,
			      (store->connect_timeout_ms % 1000) * 1000 };
	struct timeval cmd = { store->command_timeout_ms / 1000,
			       (store->command_timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);

	if (c != NULL && (c->err || redisSetTimeout(c, cmd) != REDIS_OK)) {
		redisFree(c);
		c = NULL;
	}
	return c;
}

/* The primary one sentinel names; 0 on an answer. */
static int
ask(const struct td_store *store, redisContext *c, struct td_redis_node *out)
{
	redisReply *r = redisCommand(c, "SENTINEL get-master-addr-by-name %s",
				     store->url.master_name);
	long port;
	int rc = -1;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
	    r->element[0]->len > 0 && r->element[0]->len < sizeof(out->host)) {
		port = strtol(r->element[1]->str, NULL, 10);
		if (port >= 1 && port <= 65535) {
			memcpy(out->host, r->element[0]->str, r->element[0]->len + 1);
			out->port = (int)port;
			rc = 0;
		}
	}
	freeReplyObject(r);
	return rc;
}

/* Watches +switch-master on the sentinel that answered (best effort: a
 * watch that cannot be set up only costs the quicker switch). */
static void
watch(struct td_store *store, int index)
{
	redisReply *r;

	store_sentinel_unwatch(store);
	if ((store->sentinel_sub = open_sentinel(store, &store->url.sentinels[index])) == NULL)
		return;
	r = redisCommand(store->sentinel_sub, "SUBSCRIBE +switch-master");
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		store_sentinel_unwatch(store);
	}
	freeReplyObject(r);
}

void
store_sentinel_unwatch(struct td_store *store)
{
	if (store->sentinel_sub != NULL) {
		redisFree(store->sentinel_sub);
		store->sentinel_sub = NULL;
	}
}

int
store_sentinel_resolve(struct td_store *store, char *why, size_t whylen)
{
	int i, n = store->url.nsentinels, at;
	redisContext *c;

	for (i = 0; i < n; i++) {
		at = (store->sentinel_last + i) % n;
		if ((c = open_sentinel(store, &store->url.sentinels[at])) == NULL)
			continue;
		if (ask(store, c, &store->node) == 0) {
			redisFree(c);
			if (store->sentinel_last != at || store->sentinel_sub == NULL)
				watch(store, at);
			store->sentinel_last = at;
			return 0;
		}
		redisFree(c);
	}
	snprintf(why, whylen, "no sentinel named a primary for %s", store->url.master_name);
	return -1;
}

int
store_is_primary(redisContext *c)
{
	redisReply *r = redisCommand(c, "ROLE");
	int yes = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		  r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;

	freeReplyObject(r);
	return yes;
}

/* "+switch-master <name> <old ip> <old port> <new ip> <new port>" for ours? */
static int
switches_ours(const struct td_store *store, const redisReply *m)
{
	const redisReply *payload;
	size_t len = strlen(store->url.master_name);

	if (m->type != REDIS_REPLY_ARRAY || m->elements != 3)
		return 0;
	payload = m->element[2];
	return payload->type == REDIS_REPLY_STRING && payload->len > len &&
	       strncmp(payload->str, store->url.master_name, len) == 0 && payload->str[len] == ' ';
}

int
store_sentinel_watch(struct td_store *store)
{
	struct pollfd pfd;
	redisReply *m = NULL;
	int switched = 0;

	if (store->sentinel_sub == NULL)
		return 0;
	pfd.fd = store->sentinel_sub->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (redisBufferRead(store->sentinel_sub) != REDIS_OK) {
		store_sentinel_unwatch(store);	/* set up again at the next resolve */
		return 0;
	}
	while (redisGetReplyFromReader(store->sentinel_sub, (void **)&m) == REDIS_OK && m != NULL) {
		switched |= switches_ours(store, m);
		freeReplyObject(m);
		m = NULL;
	}
	if (switched)
		td_log_info("sentinel: %s has a new primary; reconnecting", store->url.master_name);
	return switched;
}
