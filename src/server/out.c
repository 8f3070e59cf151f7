#include <string.h>

#include "tokend/server/out.h"

void
td_out_init(struct td_out *t, char *buf, size_t size)
{
	t->buf = buf;
	t->size = size;
	t->len = 0;
	t->overflow = size == 0;
	if (size > 0)
		buf[0] = '\0';
}

void
td_out_putn(struct td_out *t, const char *s, size_t n)
{
	if (t->overflow)
		return;
	if (n >= t->size - t->len) {
		t->overflow = 1;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void
td_out_put(struct td_out *t, const char *s)
{
	td_out_putn(t, s, strlen(s));
}

void
td_out_i64(struct td_out *t, int64_t v)
{
	char digits[24];
	size_t i = sizeof(digits);
	/* through uint64_t: -INT64_MIN does not fit an int64_t */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		digits[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		digits[--i] = '-';
	td_out_putn(t, digits + i, sizeof(digits) - i);
}
