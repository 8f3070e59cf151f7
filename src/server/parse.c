#include <stdint.h>
#include <string.h>

#include "tokend/server/parse.h"

int
td_parse_int64(const char *s, size_t len, long long min, long long max, long long *out)
{
	unsigned long long limit, v = 0;
	int negative = 0;
	size_t i = 0;

	if (s == NULL || len == 0)
		return -1;
	if (s[0] == '-') {
		if (min >= 0)
			return -1;
		negative = 1;
		i = 1;
	}
	if (i == len || len - i > 19)
		return -1;
	limit = negative ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
	for (; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (negative) {
		long long n = v == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(long long)v;

		if (n < min || n > max)
			return -1;
		*out = n;
		return 0;
	}
	if ((long long)v < min || (long long)v > max)
		return -1;
	*out = (long long)v;
	return 0;
}

int
td_parse_id(const char *s, size_t len, int64_t max, int64_t *out)
{
	long long v;

	if (s == NULL || len == 0 || s[0] == '0' || td_parse_int64(s, len, 1, max, &v) != 0)
		return -1;
	*out = v;
	return 0;
}

int
td_parse_octal_mode(const char *s, long long *out)
{
	size_t len = strlen(s), i;
	long long v = 0;

	if (len == 0 || len > 4)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '7')
			return -1;
		v = v * 8 + (s[i] - '0');
	}
	if (v > 0777)
		return -1;
	*out = v;
	return 0;
}

int
td_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t
td_percent_decode(const char *in, size_t len, char *out, size_t outsize)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '\0')
			return -1;
		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = td_hex_digit(in[i + 1]);
			lo = td_hex_digit(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= outsize)
			return -1;
		out[o++] = c;
	}
	if (o >= outsize)
		return -1;
	out[o] = '\0';
	return (ssize_t)o;
}
