/*
 * Redis Sentinel (redis_url = redis-sentinel://…/MASTER_NAME): which node
 * is the primary, and when that changes.
 *
 *  - Before each new data connection every sentinel is asked (SENTINEL
 *    MASTER) and the answer with the highest configuration epoch is taken;
 *    the node it names is then asked ROLE, and only a node that says
 *    "master" is used. While connected, ROLE is asked again at most once a
 *    second (store.c): a node demoted without our hearing is left within a
 *    second. The data and the tracking connections both go to that one
 *    node (store->node).
 *  - The sentinel that answered is also subscribed to (+switch-master,
 *    +convert-to-slave) on a connection of its own; store_sentinel_watch reads what has arrived,
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

/* The primary one sentinel names, with the configuration epoch it knows
 * (SENTINEL MASTER: a flat list of field, value); 0 on an answer. */
static int
ask(const struct td_store *store, redisContext *c, struct td_redis_node *out, long long *epoch)
{
	redisReply *r = redisCommand(c, "SENTINEL MASTER %s", store->url.master_name);
	const char *ip = NULL;
	long long port = 0, flags_ok = 1;
	size_t i;
	int rc = -1;

	*epoch = -1;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		goto done;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "ip") == 0 && v->len > 0 && v->len < sizeof(out->host))
			ip = v->str;
		else if (strcmp(k->str, "port") == 0)
			port = strtoll(v->str, NULL, 10);
		else if (strcmp(k->str, "config-epoch") == 0)
			*epoch = strtoll(v->str, NULL, 10);
		else if (strcmp(k->str, "flags") == 0)	/* a primary it holds down: not one */
			flags_ok = strstr(v->str, "down") == NULL;
	}
	if (ip != NULL && port >= 1 && port <= 65535 && flags_ok) {
		snprintf(out->host, sizeof(out->host), "%s", ip);
		out->port = (int)port;
		rc = 0;
	}
done:
	freeReplyObject(r);
	return rc;
}

/* Watches +switch-master on the sentinel that answered (best effort: a
 * watch that cannot be set up only costs the quicker switch). */
static void
watch(struct td_store *store, int index)
{
	redisReply *r;
	int ok;

	store_sentinel_unwatch(store);
	if ((store->sentinel_sub = open_sentinel(store, &store->url.sentinels[index])) == NULL)
		return;
	r = redisCommand(store->sentinel_sub, "SUBSCRIBE +switch-master +convert-to-slave");
	ok = r != NULL && r->type == REDIS_REPLY_ARRAY;
	freeReplyObject(r);
	r = NULL;
	/* and the second channel's confirmation */
	if (!ok || redisGetReply(store->sentinel_sub, (void **)&r) != REDIS_OK || r == NULL)
		store_sentinel_unwatch(store);
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

/* Every sentinel is asked and the newest word wins (the highest
 * configuration epoch): right after a failover some sentinels still name
 * the old primary, which may be back and, for a moment, still a primary. */
int
store_sentinel_resolve(struct td_store *store, char *why, size_t whylen)
{
	struct td_redis_node node;
	long long epoch, best = -2;
	int i, chosen = -1;
	redisContext *c;

	for (i = 0; i < store->url.nsentinels; i++) {
		if ((c = open_sentinel(store, &store->url.sentinels[i])) == NULL)
			continue;
		if (ask(store, c, &node, &epoch) == 0 && epoch > best) {
			best = epoch;
			store->links[0].node = node;
			chosen = i;
		}
		redisFree(c);
	}
	if (chosen < 0) {
		snprintf(why, whylen, "no sentinel named a primary for %s", store->url.master_name);
		return -1;
	}
	if (store->sentinel_last != chosen || store->sentinel_sub == NULL)
		watch(store, chosen);
	store->sentinel_last = chosen;
	return 0;
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

/* "+switch-master <name> <old ip> <old port> <new ip> <new port>" for ours,
 * or "+convert-to-slave slave <ip>:<port> <ip> <port> @ <name> …" for the
 * very node we use (an old primary back, made a replica): either way, move. */
static int
switches_ours(const struct td_store *store, const redisReply *m)
{
	const redisReply *channel, *payload;
	char node[300], master[TD_SENTINEL_NAME_MAX + 4];
	size_t len = strlen(store->url.master_name);

	if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
	    m->element[1]->type != REDIS_REPLY_STRING || m->element[2]->type != REDIS_REPLY_STRING)
		return 0;
	channel = m->element[1];
	payload = m->element[2];
	if (strcmp(channel->str, "+switch-master") == 0)
		return payload->len > len && strncmp(payload->str, store->url.master_name, len) == 0 &&
		       payload->str[len] == ' ';
	snprintf(node, sizeof(node), " %s:%d ", store->links[0].node.host, store->links[0].node.port);
	snprintf(master, sizeof(master), "@ %s ", store->url.master_name);
	return strcmp(channel->str, "+convert-to-slave") == 0 && strstr(payload->str, node) != NULL &&
	       strstr(payload->str, master) != NULL;
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
