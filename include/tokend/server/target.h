/*
 * The request target: the path split into percent-decoded segments and the
 * query string split into percent-decoded key/value pairs. Parsing works in
 * fixed buffers inside the struct: no allocation, bounded by named limits.
 */
#ifndef TOKEND_TARGET_H
#define TOKEND_TARGET_H

#include "tokend/limits.h"

enum td_target_status {
	TD_TARGET_OK = 0,
	TD_TARGET_BAD = 400,		/* malformed escape, encoded NUL, no leading '/' */
	TD_TARGET_TOO_LONG = 414,	/* path, query or parameter count over its limit */
};

struct td_query_param {
	const char *key;
	const char *value;
	int has_value;		/* "k=v" or "k=", not a bare "k" (RQL segments) */
};

struct td_target {
	const char *segments[TD_PATH_SEGMENTS_MAX];
	int nsegments;
	struct td_query_param params[TD_QUERY_PARAMS_MAX];
	int nparams;
	/* decoded text, each piece NUL-terminated; decoding never grows text */
	char segbuf[TD_PATH_MAX + 1];
	char querybuf[TD_QUERY_MAX + 2 * TD_QUERY_PARAMS_MAX];
};

/* uri is "path[?query]" as in REQUEST_URI; a bare '?' and empty pairs are
 * ignored, empty path segments too (so a trailing slash is optional).
 * Segments beyond TD_PATH_SEGMENTS_MAX make nsegments -1 (no route matches). */
enum td_target_status td_target_parse(struct td_target *t, const char *uri);

/* The first value of key, or NULL. */
const char *td_target_query(const struct td_target *t, const char *key);

#endif
