/* Metrics: the verify pool's routes index like the main table's, slots sum
 * into one exposition, histograms are cumulative. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/server/app.h"
#include "tokend/server/metrics.h"

/* dispatch.c counts a verify-pool request by its place in td_verify_routes
 * as if it were td_routes: the two must agree. */
static void
test_verify_routes_are_the_first_routes(void **state)
{
	size_t i;

	(void)state;
	assert_true(td_verify_routes_count <= td_routes_count);
	assert_true(td_routes_count + 2 <= TD_METRICS_ROUTES_MAX);
	for (i = 0; i < td_verify_routes_count; i++) {
		assert_string_equal(td_verify_routes[i].name, td_routes[i].name);
		assert_ptr_equal(td_verify_routes[i].handler, td_routes[i].handler);
	}
}

static void
test_slots_sum_into_one_exposition(void **state)
{
	struct td_metrics *region = td_metrics_map();
	char *text, line[160];
	size_t len;

	(void)state;
	assert_non_null(region);
	td_metrics_use(region, 0);
	td_metrics_request(2, 200, TD_LAT_VERIFY, 80);		/* "verify", bucket 0.0001 */
	td_metrics_request(2, 200, TD_LAT_VERIFY, 3000);	/* bucket 0.005 */
	td_metrics_request(2, 299, TD_LAT_VERIFY, 9000000);	/* "other", +Inf */
	td_metric_count(TD_M_CACHE_HIT);
	td_metrics_use(region, TD_WORKERS_MAX);			/* a verify worker's slot */
	td_metrics_request(2, 200, TD_LAT_VERIFY, 200);
	td_metric_count(TD_M_CACHE_HIT);
	region[5].requests[2][0] = 1000;			/* a slot never used: not read */
	text = td_metrics_render(region, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	snprintf(line, sizeof(line), "tokend_requests_total{route=\"%s\",status=\"200\"} 3\n",
		 td_routes[2].name);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "tokend_requests_total{route=\"%s\",status=\"other\"} 1\n",
		 td_routes[2].name);
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "tokend_verify_cache_hits_total 2\n"));
	assert_non_null(strstr(text,
		"tokend_request_duration_seconds_bucket{class=\"verify\",le=\"0.0001\"} 1\n"));
	assert_non_null(strstr(text,
		"tokend_request_duration_seconds_bucket{class=\"verify\",le=\"0.00025\"} 2\n"));
	assert_non_null(strstr(text,
		"tokend_request_duration_seconds_bucket{class=\"verify\",le=\"2.5\"} 3\n"));
	assert_non_null(strstr(text,
		"tokend_request_duration_seconds_bucket{class=\"verify\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(text, "tokend_request_duration_seconds_count{class=\"verify\"} 4\n"));
	assert_non_null(strstr(text, "tokend_request_duration_seconds_sum{class=\"verify\"} 9.003280\n"));
	assert_non_null(strstr(text, "tokend_build_info{version=\""));
	free(text);
	td_metrics_unmap(region);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_routes_are_the_first_routes),
		cmocka_unit_test(test_slots_sum_into_one_exposition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
