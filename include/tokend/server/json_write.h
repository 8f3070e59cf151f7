/*
 * Appending JSON text to a json-c printbuf without building json-c objects.
 * Used where one response holds thousands of records (the Storyblok list of
 * a 10,000-token space): a json-c tree per record cost ~7 µs of malloc and
 * hashing per token, most of the list's time (bench/RESULTS.md).
 * json-c still parses every request and checks this writer's output in the
 * unit tests.
 */
#ifndef TOKEND_JSON_WRITE_H
#define TOKEND_JSON_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/printbuf.h>

/* Raw text (a literal such as ",\"id\":"). */
void td_jw_raw(struct printbuf *pb, const char *s);
/* A JSON string: quoted, with '"', '\\' and control characters escaped
 * (the text is already valid UTF-8: every stored string was checked). */
void td_jw_str(struct printbuf *pb, const char *s);
/* A string, or null when s is NULL. */
void td_jw_str_or_null(struct printbuf *pb, const char *s);
void td_jw_int(struct printbuf *pb, int64_t v);
/* An integer, or null when v is 0 (ids that are optional). */
void td_jw_int_or_null(struct printbuf *pb, int64_t v);
/* [v0,v1,...] */
void td_jw_int_array(struct printbuf *pb, const int64_t *v, int n);
/* ISO 8601 time of unix milliseconds, or null when ms <= 0. */
void td_jw_time_ms(struct printbuf *pb, int64_t ms);

#endif
