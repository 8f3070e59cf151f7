/* The fixed-buffer appender behind every verify's headers and body:
 * numbers as printf writes them (both ends of int64), and a buffer that is
 * too small keeps a NUL-terminated prefix and says so, never writes past. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/server/out.h"

static void
test_numbers_as_printf_writes_them(void **state)
{
	static const int64_t values[] = { 0, 1, -1, 9, 10, 99, 100, -100, 1234567890123,
					  INT64_MAX, INT64_MIN, INT64_MIN + 1, (int64_t)1 << 53 };
	char buf[32], want[32];
	struct td_out o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		td_out_init(&o, buf, sizeof(buf));
		td_out_i64(&o, values[i]);
		snprintf(want, sizeof(want), "%" PRId64, values[i]);
		assert_false(o.overflow);
		assert_string_equal(buf, want);
		assert_int_equal(o.len, strlen(want));
	}
}

static void
test_appends_in_order(void **state)
{
	char buf[64];
	struct td_out o;

	(void)state;
	td_out_init(&o, buf, sizeof(buf));
	td_out_put(&o, "Status: ");
	td_out_i64(&o, 401);
	td_out_putn(&o, " Unauthorizedxyz", 13);
	assert_false(o.overflow);
	assert_string_equal(buf, "Status: 401 Unauthorized");
}

static void
test_overflow_keeps_a_terminated_prefix(void **state)
{
	char buf[16];
	struct td_out o;

	(void)state;
	memset(buf, 'z', sizeof(buf));
	td_out_init(&o, buf, 8);
	td_out_put(&o, "abcdefg");		/* 7 + NUL: fits exactly */
	assert_false(o.overflow);
	assert_string_equal(buf, "abcdefg");
	td_out_put(&o, "h");
	assert_true(o.overflow);
	assert_string_equal(buf, "abcdefg");
	td_out_i64(&o, 5);			/* stays refused */
	assert_true(o.overflow);
	assert_int_equal(o.len, 7);
	assert_int_equal(buf[8], 'z');		/* nothing written past size */

	td_out_init(&o, buf, 4);
	td_out_i64(&o, INT64_MIN);
	assert_true(o.overflow);
	assert_string_equal(buf, "");

	memset(buf, 'z', sizeof(buf));
	td_out_init(&o, buf, 0);		/* no room even for the NUL */
	assert_true(o.overflow);
	td_out_put(&o, "a");
	assert_int_equal(buf[0], 'z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_as_printf_writes_them),
		cmocka_unit_test(test_appends_in_order),
		cmocka_unit_test(test_overflow_keeps_a_terminated_prefix),
	};

	return cmocka_run_group_tests_name("out", tests, NULL, NULL);
}
