/*
 * The record caches (core/record_cache.h): a record is found by its space
 * and id only, copied in and out, its absence cached too; a colliding
 * record replaces the one in its slot; a drop, a space's drop and a clear
 * leave nothing of what they name and nothing else gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tokend/core/record_cache.h"

struct rec {
	int64_t id;
	char name[40];
};

static struct rec
rec_of(int64_t id, const char *name)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	strncpy(r.name, name, sizeof(r.name) - 1);
	return r;
}

static void
test_only_powers_of_two_and_a_size(void **state)
{
	(void)state;
	assert_null(td_record_cache_new(0, 8));
	assert_null(td_record_cache_new(12, 8));
	assert_null(td_record_cache_new(16, 0));
	td_record_cache_free(NULL);
}

static void
test_found_by_space_and_id_copied(void **state)
{
	struct td_record_cache *c = td_record_cache_new(16, sizeof(struct rec));
	struct rec r = rec_of(7, "seven");
	const void *hit = NULL;

	(void)state;
	assert_non_null(c);
	assert_false(td_record_cache_get(c, 3, 7, &hit));
	td_record_cache_put(c, 3, 7, &r);
	strcpy(r.name, "changed after");	/* the cache holds its own copy */
	assert_true(td_record_cache_get(c, 3, 7, &hit));
	assert_string_equal(((const struct rec *)hit)->name, "seven");
	/* the same id in another space is another record */
	assert_false(td_record_cache_get(c, 4, 7, &hit));
	assert_false(td_record_cache_get(c, 3, 8, &hit));
	assert_false(td_record_cache_get(c, 3, 0, &hit));
	assert_int_equal(td_record_cache_count(c), 1);
	td_record_cache_free(c);
}

static void
test_absence_is_cached(void **state)
{
	struct td_record_cache *c = td_record_cache_new(16, sizeof(struct rec));
	const void *hit = &hit;

	(void)state;
	td_record_cache_put(c, 0, 5, NULL);
	assert_true(td_record_cache_get(c, 0, 5, &hit));
	assert_null(hit);
	td_record_cache_free(c);
}

static void
test_a_collision_replaces(void **state)
{
	struct td_record_cache *c = td_record_cache_new(4, sizeof(struct rec));
	struct rec a = rec_of(1, "one"), b = rec_of(5, "five");
	const void *hit = NULL;

	(void)state;
	td_record_cache_put(c, 1, 1, &a);
	td_record_cache_put(c, 1, 5, &b);	/* 5 & 3 == 1 & 3 */
	assert_false(td_record_cache_get(c, 1, 1, &hit));
	assert_true(td_record_cache_get(c, 1, 5, &hit));
	assert_string_equal(((const struct rec *)hit)->name, "five");
	assert_int_equal(td_record_cache_count(c), 1);
	td_record_cache_free(c);
}

static void
test_drops_take_what_they_name(void **state)
{
	struct td_record_cache *c = td_record_cache_new(16, sizeof(struct rec));
	struct rec r = rec_of(1, "x");
	const void *hit = NULL;

	(void)state;
	td_record_cache_put(c, 1, 1, &r);
	td_record_cache_put(c, 1, 2, &r);
	td_record_cache_put(c, 2, 3, &r);
	td_record_cache_put(c, 2, 4, &r);
	td_record_cache_drop(c, 2, 1);		/* another space's id 1: not this one */
	assert_true(td_record_cache_get(c, 1, 1, &hit));
	td_record_cache_drop(c, 1, 1);
	assert_false(td_record_cache_get(c, 1, 1, &hit));
	assert_int_equal(td_record_cache_count(c), 3);
	td_record_cache_drop_space(c, 2);
	assert_false(td_record_cache_get(c, 2, 3, &hit));
	assert_false(td_record_cache_get(c, 2, 4, &hit));
	assert_true(td_record_cache_get(c, 1, 2, &hit));
	assert_int_equal(td_record_cache_count(c), 1);
	td_record_cache_clear(c);
	assert_false(td_record_cache_get(c, 1, 2, &hit));
	assert_int_equal(td_record_cache_count(c), 0);
	/* a slot emptied can be filled again */
	td_record_cache_put(c, 1, 2, &r);
	assert_true(td_record_cache_get(c, 1, 2, &hit));
	td_record_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_powers_of_two_and_a_size),
		cmocka_unit_test(test_found_by_space_and_id_copied),
		cmocka_unit_test(test_absence_is_cached),
		cmocka_unit_test(test_a_collision_replaces),
		cmocka_unit_test(test_drops_take_what_they_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
