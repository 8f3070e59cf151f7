/*
 * libFuzzer target for the RQL parser and matcher: the input is a query
 * string's filter part, split on '&' into segments as tokend does.
 * Build and run: make fuzz (long) or make test-fuzz (brief, in make test).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tokend/api/rql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct td_rql q;
	static struct json_object *doc;
	const char *p = (const char *)data, *end = p + size, *amp;

	if (doc == NULL)
		doc = json_tokener_parse(
			"{\"id\":\"TKN-0000-0042\",\"name\":\"E2E Seeded Token\",\"status\":\"Active\","
			"\"count\":7,\"flag\":true,\"description\":null,"
			"\"account\":{\"id\":\"ACC-0000-0077\",\"name\":\"Acme\"},"
			"\"audit\":{\"created\":{\"at\":\"2026-11-22T10:00:00.000Z\"}},"
			"\"modules\":[{\"id\":\"MOD-1756\",\"name\":\"Access Management\"}]}");
	if (size > TD_RQL_TEXT_MAX)
		return 0;
	td_rql_init(&q);
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp > p && td_rql_add(&q, p, (size_t)(amp - p)) != 0)
			return 0;
		p = amp + 1;
	}
	(void)td_rql_match(&q, doc);
	return 0;
}
