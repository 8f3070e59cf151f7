/*
 * Bounded parsers for text that arrives from the network or a config file.
 * Each one takes an explicit length, checks every byte, and reports failure
 * instead of guessing (no strtol whitespace or sign leniency).
 */
#ifndef TOKEND_PARSE_H
#define TOKEND_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Decimal integer in [min, max]: an optional '-' (only when min < 0), then
 * 1..19 digits. Returns 0, or -1 on anything else, overflow included. */
int td_parse_int64(const char *s, size_t len, long long min, long long max, long long *out);

/* A record id: 1..max in canonical decimal (no sign, no leading zero), so
 * one record has one spelling. 0 or -1. Ids from the network are bounded by
 * TD_ID_MAX (limits.h). */
int td_parse_id(const char *s, size_t len, int64_t max, int64_t *out);

/* An octal file mode such as 660 or 0660, at most 0777. */
int td_parse_octal_mode(const char *s, long long *out);

/* The value of one hex digit (either case), or -1. */
int td_hex_digit(char c);

/* Percent-decodes len bytes of in into out (NUL-terminated). '+' stays '+'.
 * Returns the decoded length, or -1 for a malformed escape, an encoded NUL,
 * or an out buffer too small. */
ssize_t td_percent_decode(const char *in, size_t len, char *out, size_t outsize);

#endif
