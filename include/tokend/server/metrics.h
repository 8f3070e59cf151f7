/*
 * Metrics: counters every process keeps in its own slot of one shared
 * memory region that the supervisor maps before it forks (so every worker,
 * and the process that serves /metrics, sees the same pages). A slot has
 * exactly one writer, its process, so counting is a relaxed store of the
 * value plus one: no lock and no atomic read-modify-write on the hot path.
 * The reader sums the slots; a counter read mid-update is one behind,
 * never torn (aligned 64-bit stores).
 */
#ifndef TOKEND_METRICS_H
#define TOKEND_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "tokend/limits.h"

#define TD_METRICS_ROUTES_MAX 96	/* the route table, "authorize" and "-" */
#define TD_METRICS_REASONS_MAX 40	/* enum td_verify_reason */
#define TD_METRICS_BUCKETS 14		/* latency buckets before +Inf */

/* The status codes tokend answers with, each a counter; the rest "other". */
#define TD_METRICS_STATUSES \
	X(200) X(201) X(202) X(204) X(400) X(401) X(403) X(404) X(405) X(406) X(408) X(409) \
	X(411) X(413) X(414) X(415) X(422) X(429) X(431) X(500) X(501) X(503) X(505)
#define X(code) + 1
enum { TD_METRICS_STATUS_N = 0 TD_METRICS_STATUSES + 1 };	/* + "other" */
#undef X

enum td_metric {
	TD_M_CACHE_HIT,
	TD_M_CACHE_MISS,
	TD_M_CACHE_INVALIDATION,	/* one record or space dropped by Redis's word */
	TD_M_CACHE_FLUSH,		/* the whole cache emptied */
	TD_M_REDIS_ERROR,		/* a connection lost, refused or timed out */
	TD_M_REDIS_CONNECT,		/* a data connection opened */
	TD_M_REDIS_REDIRECT,		/* a cluster's MOVED or ASK followed */
	TD_M_REDIS_MAP_READ,		/* a cluster's slot map read */
	TD_M_WORKER_RESTART,		/* the supervisor's: a worker that died, replaced */
	TD_M__COUNT
};

enum td_latency_class { TD_LAT_VERIFY, TD_LAT_MANAGEMENT, TD_LAT__COUNT };

struct td_metrics {
	uint64_t used;			/* 1 once a process has counted here */
	uint64_t requests[TD_METRICS_ROUTES_MAX][TD_METRICS_STATUS_N];
	uint64_t verify[TD_METRICS_REASONS_MAX];
	uint64_t counters[TD_M__COUNT];
	uint64_t latency[TD_LAT__COUNT][TD_METRICS_BUCKETS + 1];	/* per bucket, not cumulative */
	uint64_t latency_sum_us[TD_LAT__COUNT];
} __attribute__((aligned(64)));

/* Slots: TD_WORKERS_MAX per pool (main, verify), then the supervisor's. */
#define TD_METRICS_SLOTS (2 * TD_WORKERS_MAX + 1)
#define TD_METRICS_SUPERVISOR_SLOT (2 * TD_WORKERS_MAX)

/* This process's slot: a private dummy until td_metrics_use (the CLI, unit
 * tests, a tokend without metrics count into it harmlessly). */
extern struct td_metrics *td_metrics_mine;

static inline void
td_metric_bump(uint64_t *counter)
{
	__atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

static inline void
td_metric_count(enum td_metric m)
{
	td_metric_bump(&td_metrics_mine->counters[m]);
}

/* The shared region (NULL on failure), mapped before forking. */
struct td_metrics *td_metrics_map(void);
void td_metrics_unmap(struct td_metrics *region);
/* Makes slot the calling process's own. */
void td_metrics_use(struct td_metrics *region, int slot);

/* A request answered: route index (td_metrics_route_index), status, its
 * class and duration. */
void td_metrics_request(int route, int status, enum td_latency_class cls, long long micros);

/* The Prometheus text exposition (0.0.4) of the sum of every slot, into a
 * malloc'd buffer; NULL when out of memory. */
char *td_metrics_render(const struct td_metrics *region, size_t *len);

/* The metrics process: serves GET /metrics on listen_fd until SIGTERM. */
int td_metrics_serve(int listen_fd, const struct td_metrics *region);

#endif
