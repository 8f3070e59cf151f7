/*
 * Routing on method + path. A route's pattern is a path whose segments are
 * literals, "{name}" (an int64 >= 0, anything else does not match) or
 * "{*name}" (any one segment). Each route names its API dialect, so errors
 * raised on it render in that dialect's shape.
 */
#ifndef TOKEND_ROUTER_H
#define TOKEND_ROUTER_H

#include <stddef.h>

#define TD_ROUTE_PARAMS_MAX 4

enum td_method {
	TD_METHOD_GET = 1 << 0,
	TD_METHOD_HEAD = 1 << 1,
	TD_METHOD_POST = 1 << 2,
	TD_METHOD_PUT = 1 << 3,
	TD_METHOD_PATCH = 1 << 4,
	TD_METHOD_DELETE = 1 << 5,
	TD_METHOD_OPTIONS = 1 << 6,
	TD_METHOD_OTHER = 1 << 7,
};

enum td_dialect {
	TD_DIALECT_ADMIN,	/* tokend's own: health, version, spaces, PATs */
	TD_DIALECT_STORYBLOK,
	TD_DIALECT_DATOCMS,
	TD_DIALECT_SOFTWAREONE,
	TD_DIALECT_VERIFY,
	TD_DIALECT__MAX
};

struct td_ctx;
struct td_request;
typedef int (*td_handler_fn)(struct td_ctx *ctx, struct td_request *req);

struct td_route {
	const char *name;		/* in the access log */
	unsigned methods;		/* TD_METHOD_* bits; GET implies HEAD */
	const char *pattern;
	enum td_dialect dialect;
	td_handler_fn handler;
};

enum td_match_status {
	TD_MATCH_OK,
	TD_MATCH_NOT_FOUND,
	TD_MATCH_BAD_METHOD,		/* path known, method not: answer 405 with allow */
};

struct td_route_match {
	const struct td_route *route;
	long long ids[TD_ROUTE_PARAMS_MAX];	/* "{name}" values in pattern order */
	const char *strs[TD_ROUTE_PARAMS_MAX];	/* "{*name}" values in pattern order */
	int nids, nstrs;
	unsigned allow;			/* TD_MATCH_BAD_METHOD: the methods the path takes */
};

unsigned td_method_parse(const char *name);

enum td_match_status td_router_match(const struct td_route *routes, size_t nroutes,
				     unsigned method, const char *const *segments,
				     int nsegments, struct td_route_match *m);

/* Writes "GET, HEAD, POST" for a method set; returns the length. */
size_t td_methods_format(unsigned methods, char *buf, size_t size);

/* The dialect of a path no route matched, by its prefix, so a 404 under
 * /access_tokens still looks like a DatoCMS error. */
enum td_dialect td_dialect_for_path(const char *const *segments, int nsegments);

#endif
