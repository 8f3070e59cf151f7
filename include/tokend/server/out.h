/*
 * Text appended into a fixed buffer, for what every verify writes (its
 * headers and its small JSON body): snprintf parsed the same format strings
 * on every request, a third of a cached verify's instructions. A piece that
 * does not fit sets `overflow` and is dropped, with every later one; the
 * text so far stays NUL-terminated, and the caller checks once.
 */
#ifndef TOKEND_OUT_H
#define TOKEND_OUT_H

#include <stddef.h>
#include <stdint.h>

struct td_out {
	char *buf;
	size_t size;		/* of buf, NUL included */
	size_t len;
	int overflow;
};

void td_out_init(struct td_out *t, char *buf, size_t size);
void td_out_putn(struct td_out *t, const char *s, size_t n);
void td_out_put(struct td_out *t, const char *s);
void td_out_i64(struct td_out *t, int64_t v);

#endif
