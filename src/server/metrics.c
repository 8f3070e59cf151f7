/*
 * Counting into this process's slot, and the exposition that sums them.
 * Route indexes are positions in the route table (the verify pool's table
 * is its first entries, in the same order: a unit test holds it), then
 * "authorize" and "-" (no route).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tokend/api/admin.h"
#include "tokend/core/verify.h"
#include "tokend/server/app.h"
#include "tokend/server/metrics.h"

static struct td_metrics dummy;
struct td_metrics *td_metrics_mine = &dummy;

/* Upper bounds of the latency buckets, in microseconds (Prometheus "le"). */
static const long long bucket_us[TD_METRICS_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000,
};

#define X(code) code,
static const int status_codes[TD_METRICS_STATUS_N - 1] = { TD_METRICS_STATUSES };
#undef X

struct td_metrics *
td_metrics_map(void)
{
	void *p = mmap(NULL, sizeof(struct td_metrics) * TD_METRICS_SLOTS, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
td_metrics_unmap(struct td_metrics *region)
{
	if (region != NULL)
		munmap(region, sizeof(struct td_metrics) * TD_METRICS_SLOTS);
}

void
td_metrics_use(struct td_metrics *region, int slot)
{
	if (region == NULL || slot < 0 || slot >= TD_METRICS_SLOTS)
		return;
	td_metrics_mine = &region[slot];
	__atomic_store_n(&td_metrics_mine->used, 1, __ATOMIC_RELAXED);
}

static int
status_index(int status)
{
	int i;

	for (i = 0; i < TD_METRICS_STATUS_N - 1; i++)
		if (status_codes[i] == status)
			return i;
	return TD_METRICS_STATUS_N - 1;
}

void
td_metrics_request(int route, int status, enum td_latency_class cls, long long micros)
{
	struct td_metrics *m = td_metrics_mine;
	int b;

	if (route < 0 || route >= TD_METRICS_ROUTES_MAX)
		route = TD_METRICS_ROUTES_MAX - 1;
	td_metric_bump(&m->requests[route][status_index(status)]);
	for (b = 0; b < TD_METRICS_BUCKETS && micros > bucket_us[b]; b++)
		;
	td_metric_bump(&m->latency[cls][b]);
	__atomic_store_n(&m->latency_sum_us[cls], m->latency_sum_us[cls] + (uint64_t)micros,
			 __ATOMIC_RELAXED);
}

/* --- the exposition --- */

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Sums every used slot into *sum. */
static void
sum_slots(const struct td_metrics *region, struct td_metrics *sum)
{
	const uint64_t *src;
	uint64_t *dst;
	size_t i, words = sizeof(*sum) / sizeof(uint64_t);
	int s;

	memset(sum, 0, sizeof(*sum));
	for (s = 0; s < TD_METRICS_SLOTS; s++) {
		if (!load(&region[s].used))
			continue;
		src = (const uint64_t *)(const void *)&region[s];
		dst = (uint64_t *)(void *)sum;
		for (i = 0; i < words; i++)
			dst[i] += load(&src[i]);
	}
}

static const char *
route_name(int i)
{
	if (i < (int)td_routes_count)
		return td_routes[i].name;
	return i == (int)td_routes_count ? "authorize" : "-";
}

static void
render_requests(FILE *out, const struct td_metrics *sum)
{
	int r, s;

	fprintf(out, "# HELP tokend_requests_total Requests answered, by route and status.\n"
		     "# TYPE tokend_requests_total counter\n");
	for (r = 0; r < TD_METRICS_ROUTES_MAX; r++)
		for (s = 0; s < TD_METRICS_STATUS_N; s++) {
			if (sum->requests[r][s] == 0)
				continue;
			fprintf(out, "tokend_requests_total{route=\"%s\",status=\"", route_name(r));
			if (s < TD_METRICS_STATUS_N - 1)
				fprintf(out, "%d", status_codes[s]);
			else
				fprintf(out, "other");
			fprintf(out, "\"} %llu\n", (unsigned long long)sum->requests[r][s]);
		}
}

static void
render_verify(FILE *out, const struct td_metrics *sum)
{
	int r;

	fprintf(out, "# HELP tokend_verify_total Verify decisions (auth_request, authorizer, "
		     "POST /v1/verify), by reason.\n# TYPE tokend_verify_total counter\n");
	for (r = 0; r < TD_VERIFY__MAX && r < TD_METRICS_REASONS_MAX; r++)
		fprintf(out, "tokend_verify_total{reason=\"%s\"} %llu\n",
			td_verify_reason_name((enum td_verify_reason)r),
			(unsigned long long)sum->verify[r]);
}

static void
render_counters(FILE *out, const struct td_metrics *sum)
{
	static const struct {
		const char *name, *help;
	} info[TD_M__COUNT] = {
		[TD_M_CACHE_HIT] = { "tokend_verify_cache_hits_total",
				     "Verifies answered from the verify cache." },
		[TD_M_CACHE_MISS] = { "tokend_verify_cache_misses_total",
				      "Verifies that read Redis although the cache is on." },
		[TD_M_CACHE_INVALIDATION] = { "tokend_verify_cache_invalidations_total",
					      "Records or spaces dropped from the cache on Redis's "
					      "invalidation messages." },
		[TD_M_CACHE_FLUSH] = { "tokend_verify_cache_flushes_total",
				       "Times a whole verify cache was emptied (tracking lost, "
				       "Redis restarted or flushed)." },
		[TD_M_REDIS_ERROR] = { "tokend_redis_errors_total",
				       "Redis connections lost, refused or timed out." },
		[TD_M_REDIS_CONNECT] = { "tokend_redis_connects_total",
					 "Redis data connections opened (reconnects included)." },
		[TD_M_REDIS_REDIRECT] = { "tokend_redis_redirects_total",
					  "Redis Cluster MOVED and ASK redirections followed." },
		[TD_M_REDIS_MAP_READ] = { "tokend_redis_cluster_map_reads_total",
					  "Redis Cluster slot maps read (CLUSTER SLOTS)." },
		[TD_M_WORKER_RESTART] = { "tokend_worker_restarts_total",
					  "Workers that died and were replaced." },
	};
	int i;

	for (i = 0; i < TD_M__COUNT; i++)
		fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", info[i].name,
			info[i].help, info[i].name, info[i].name,
			(unsigned long long)sum->counters[i]);
}

static void
render_latency(FILE *out, const struct td_metrics *sum)
{
	static const char *const cls[TD_LAT__COUNT] = { "verify", "management" };
	unsigned long long cumulative;
	int c, b;

	fprintf(out, "# HELP tokend_request_duration_seconds Time from a request's start to its "
		     "answer inside tokend, by class.\n"
		     "# TYPE tokend_request_duration_seconds histogram\n");
	for (c = 0; c < TD_LAT__COUNT; c++) {
		cumulative = 0;
		for (b = 0; b <= TD_METRICS_BUCKETS; b++) {
			cumulative += sum->latency[c][b];
			if (b < TD_METRICS_BUCKETS)
				fprintf(out, "tokend_request_duration_seconds_bucket{class=\"%s\","
					     "le=\"%g\"} %llu\n", cls[c], bucket_us[b] / 1e6, cumulative);
			else
				fprintf(out, "tokend_request_duration_seconds_bucket{class=\"%s\","
					     "le=\"+Inf\"} %llu\n", cls[c], cumulative);
		}
		fprintf(out, "tokend_request_duration_seconds_sum{class=\"%s\"} %.6f\n"
			     "tokend_request_duration_seconds_count{class=\"%s\"} %llu\n",
			cls[c], sum->latency_sum_us[c] / 1e6, cls[c], cumulative);
	}
}

char *
td_metrics_render(const struct td_metrics *region, size_t *len)
{
	static struct td_metrics sum;	/* 19 KB: not on the stack */
	char *buf = NULL;
	FILE *out;

	if ((out = open_memstream(&buf, len)) == NULL)
		return NULL;
	sum_slots(region, &sum);
	render_requests(out, &sum);
	render_verify(out, &sum);
	render_counters(out, &sum);
	render_latency(out, &sum);
	fprintf(out, "# HELP tokend_build_info The running version.\n# TYPE tokend_build_info gauge\n"
		     "tokend_build_info{version=\"%s\"} 1\n", TD_VERSION);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
