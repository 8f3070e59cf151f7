/*
 * A worker process: serves FastCGI requests from the shared listening
 * socket until told to stop. One thread, many connections: it multiplexes
 * up to worker_connections FastCGI connections with poll(2) and serves each
 * request to completion. That keeps nginx's kept-alive upstream connections
 * (fastcgi_keep_conn) from pinning a worker while other connections wait.
 */
#ifndef TOKEND_WORKER_H
#define TOKEND_WORKER_H

#include "tokend/server/config.h"

/* What a worker's listener is for: everything (or all but the verify path,
 * when it has a pool of its own), or the verify path alone. */
enum td_pool_kind {
	TD_POOL_MAIN,
	TD_POOL_VERIFY,
	TD_POOL_METRICS,	/* one process answering Prometheus (metrics_http.c) */
	TD_POOL__MAX
};

struct td_config_source {
	const char *path;
	int explicit_path;
};

/* Runs until SIGTERM/SIGINT (then finishes what it has and returns 0).
 * SIGHUP makes it re-read the configuration from src between requests. */
int td_worker_run(const struct td_config *cfg, const struct td_config_source *src,
		  int listen_fd, enum td_pool_kind pool);

#endif
