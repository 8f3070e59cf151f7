/*
 * The store: the only module that talks to Redis. One connection per
 * worker, connect and command timeouts, reconnect on demand.
 *
 * A failed command drops the connection; the next call reconnects, but no
 * more often than redis_retry_interval_ms, so while Redis is down requests
 * fail fast (503) instead of each waiting out a connect timeout.
 */
#ifndef TOKEND_STORE_H
#define TOKEND_STORE_H

#include <stddef.h>

#include "tokend/config.h"

struct td_redis_url {
	int is_unix;
	char host[256];
	int port;
	char path[108];
	int db;
	char password[TD_SECRET_MAX];
};

/* redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]. */
int td_redis_url_parse(const char *url, struct td_redis_url *out, char *err, size_t errlen);

struct td_store;

struct td_store *td_store_new(const struct td_config *cfg);
void td_store_free(struct td_store *store);

/* Takes new settings; drops the connection if the server or timeouts changed. */
int td_store_reconfigure(struct td_store *store, const struct td_config *cfg);

/* Connects now if not connected (used at worker start to warm up). */
int td_store_connect(struct td_store *store);

/* 0 when Redis answers PING with PONG, -1 when it is unreachable or failing. */
int td_store_ping(struct td_store *store);

#endif
