/*
 * libFuzzer target for the two text rules every stored value passes: strict
 * UTF-8 (td_utf8_valid) against RFC 3629's table of well-formed sequences,
 * written out independently here; and the expires_at parser (td_time_parse),
 * whose every accepted time must print back as the same calendar date and
 * clock time (a February 30 that became March 2 would not).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokend/core/core.h"
#include "tokend/core/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
tail(uint8_t b)
{
	return b >= 0x80 && b <= 0xbf;
}

/* RFC 3629 section 4: the UTF8-char rule, byte ranges as written there. */
static int
rfc3629(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t a = s[i], b = i + 1 < n ? s[i + 1] : 0;

		if (a <= 0x7f) {
			i += 1;
		} else if (a >= 0xc2 && a <= 0xdf && i + 1 < n && tail(b)) {
			i += 2;
		} else if (i + 2 < n && tail(s[i + 2]) &&
			   ((a == 0xe0 && b >= 0xa0 && b <= 0xbf) ||
			    (((a >= 0xe1 && a <= 0xec) || a == 0xee || a == 0xef) && tail(b)) ||
			    (a == 0xed && b >= 0x80 && b <= 0x9f))) {
			i += 3;
		} else if (i + 3 < n && tail(s[i + 2]) && tail(s[i + 3]) &&
			   ((a == 0xf0 && b >= 0x90 && b <= 0xbf) ||
			    (a >= 0xf1 && a <= 0xf3 && tail(b)) ||
			    (a == 0xf4 && b >= 0x80 && b <= 0x8f))) {
			i += 4;
		} else {
			return -1;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_text v = { (const char *)data, size };
	const char *msg = NULL;
	char printed[32];
	size_t chars;
	int64_t t;
	time_t tt;
	struct tm tm;

	if ((td_utf8_valid(data, size, &chars) == 0) != (rfc3629(data, size) == 0))
		abort();
	if (memchr(data, '\0', size) != NULL || td_time_parse(&v, &t, &msg) != 0)
		return 0;
	/* accepted: "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z", printed back the same */
	if (size < 20 || size > 30 || data[size - 1] != 'Z' || t <= 0)
		abort();
	if (data[17] == '6' && data[18] == '0')
		return 0;	/* a leap second is the next minute's 00 */
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL)
		abort();
	snprintf(printed, sizeof(printed), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (memcmp(printed, data, 19) != 0)
		abort();
	return 0;
}
