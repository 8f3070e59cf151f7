#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tokend/server/json_write.h"
#include "tokend/core/token.h"

void
td_jw_raw(struct printbuf *pb, const char *s)
{
	printbuf_memappend(pb, s, (int)strlen(s));
}

void
td_jw_str(struct printbuf *pb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	printbuf_memappend(pb, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		printbuf_memappend(pb, run, (int)(s - run));
		run = s + 1;
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			printbuf_memappend(pb, esc, 2);
		} else if (ch == '\n' || ch == '\t' || ch == '\r') {
			esc[1] = ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r';
			printbuf_memappend(pb, esc, 2);
		} else {
			esc[1] = 'u';
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			printbuf_memappend(pb, esc, 6);
		}
	}
	printbuf_memappend(pb, run, (int)(s - run));
	printbuf_memappend(pb, "\"", 1);
}

void
td_jw_str_or_null(struct printbuf *pb, const char *s)
{
	if (s == NULL)
		printbuf_memappend(pb, "null", 4);
	else
		td_jw_str(pb, s);
}

void
td_jw_int(struct printbuf *pb, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	printbuf_memappend(pb, buf, n);
}

void
td_jw_int_or_null(struct printbuf *pb, int64_t v)
{
	if (v == 0)
		printbuf_memappend(pb, "null", 4);
	else
		td_jw_int(pb, v);
}

void
td_jw_int_array(struct printbuf *pb, const int64_t *v, int n)
{
	int i;

	printbuf_memappend(pb, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			printbuf_memappend(pb, ",", 1);
		td_jw_int(pb, v[i]);
	}
	printbuf_memappend(pb, "]", 1);
}

void
td_jw_time_ms(struct printbuf *pb, int64_t ms)
{
	char buf[40];

	if (ms <= 0) {
		printbuf_memappend(pb, "null", 4);
		return;
	}
	td_format_time_ms(ms, buf, sizeof(buf));
	td_jw_str(pb, buf);
}
