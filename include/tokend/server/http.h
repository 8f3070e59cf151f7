/*
 * One HTTP request as FastCGI delivers it, and its JSON response.
 * A td_request lives for the whole worker and is reset per request, so the
 * request path allocates nothing but the body buffer (grown once) and JSON.
 */
#ifndef TOKEND_HTTP_H
#define TOKEND_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "tokend/limits.h"
#include "tokend/server/router.h"
#include "tokend/server/target.h"

#define TD_RESPONSE_HEADERS_MAX 12
#define TD_RESPONSE_HEADER_BYTES (TD_CANON_URI_MAX + 4096)	/* X-Tokend-Uri and the rest */

struct td_request {
	FCGX_Request *fcgx;
	unsigned method;
	char method_name[TD_METHOD_MAX];
	struct td_target target;
	struct td_route_match match;	/* route, path ids and strings */
	enum td_dialect dialect;
	const char *route_name;		/* "-" until routed */

	char *body;			/* NUL-terminated; body_len bytes */
	size_t body_len;
	size_t body_alloc;
	struct json_object *json;	/* the parsed body, NULL when there is none */

	char request_id[TD_REQUEST_ID_MAX + 1];
	long long started_us;

	/* response */
	char headers[TD_RESPONSE_HEADER_BYTES];	/* "Name: value\r\n" lines */
	size_t headers_len;
	int status;
	int responded;
	int close_connection;		/* drop the FastCGI connection after this response */
	int rate_limit;			/* DatoCMS answers carry X-RateLimit-*: the limit */
	int rate_headers_set;		/* ... and whether a counted value was set */
	/* run as the head is written, then cleared: the X-RateLimit-* headers
	 * of a call whose limiters answered after its begin (api/common.c);
	 * arg is the handler's call, so dispatch clears it when the handler
	 * returns */
	void (*before_head)(struct td_request *req, void *arg);
	void *before_head_arg;
	/* run once before the first byte of the response is written: the
	 * store's write barrier (td_store_write_barrier) */
	void (*before_response)(void *arg);
	void *before_response_arg;
};

/* An error as the core raises it; each dialect renders it its own way. */
struct td_error {
	int status;
	const char *code;
	const char *field;	/* may be NULL */
	const char *message;
};

/* What differs between dialects at the HTTP edge, one row per dialect
 * (defined by the views, api/errors.c): the server calls these and never
 * asks which dialect it serves. */
struct td_dialect_hooks {
	struct json_object *(*render_error)(const struct td_error *e, const char *request_id);
	void (*before_headers)(struct td_request *req);	/* headers every answer carries */
	int (*error_status)(const struct td_request *req, int status);	/* the status allowed */
};
extern const struct td_dialect_hooks td_dialect_hooks[TD_DIALECT__MAX];

/* The HTTP reason phrase for a status ("Not Found"), or "Unknown". */
const char *td_http_reason(int status);

/* A request header by its HTTP name ("X-Token"), or NULL. */
const char *td_request_header(const struct td_request *req, const char *name);
const char *td_request_param(const struct td_request *req, const char *fastcgi_name);

/* The request's URI as the client sent it: REQUEST_URI, else rebuilt from
 * SCRIPT_NAME, PATH_INFO and QUERY_STRING into buf; NULL if it does not fit. */
const char *td_request_uri(const struct td_request *req, char *buf, size_t size);

/* Adds a response header; values must be printable ASCII (checked). */
int td_response_header(struct td_request *req, const char *name, const char *value);

/* Sends status + JSON body (taking ownership of body, may be NULL for an
 * empty object). HEAD gets the headers only. Every response carries
 * Content-Type: application/json; charset=utf-8 and X-Request-Id. */
int td_respond_json(struct td_request *req, int status, struct json_object *body);

/* Sends status + an already serialized JSON body of len bytes (for large
 * lists built piece by piece instead of as one json-c tree). */
int td_respond_json_text(struct td_request *req, int status, const char *text, size_t len);

/* A 200 JSON body written as it is produced (a list of any length in
 * bounded memory): the caller appends to buf, and calls td_stream_wrote
 * after each piece; once buf holds TD_STREAM_FLUSH_BYTES, the head goes out
 * (no Content-Length: the body ends with the FastCGI stream) and buf after
 * it. td_stream_finish sends the rest (a body that stayed under one flush is
 * sent whole with its Content-Length); td_stream_abandon, on a failure,
 * returns 0 when nothing was sent yet (answer the error as usual), else 1:
 * the response was cut (the connection is closed without an end record). */
#define TD_STREAM_FLUSH_BYTES (64 * 1024)
struct td_stream {
	struct td_request *req;
	struct printbuf *buf;
	int started;
};
int td_stream_init(struct td_stream *s, struct td_request *req);
int td_stream_wrote(struct td_stream *s);
int td_stream_finish(struct td_stream *s);
int td_stream_abandon(struct td_stream *s);

/* 204 No Content: status line and headers, no body (SoftwareOne's DELETE). */
int td_respond_no_content(struct td_request *req);

/* An error in the dialect of the route (or of the path, when unrouted).
 * code is tokend's stable snake_case name ("not_found"); message is for humans;
 * field, when not NULL, names the input at fault. */
int td_respond_error(struct td_request *req, int status, const char *code,
		     const char *field, const char *message);

long long td_now_us(void);

#endif
