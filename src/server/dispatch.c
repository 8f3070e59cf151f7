/*
 * The request pipeline, in order: method and target, header sizes, route,
 * body (size, media type, JSON), handler, then draining whatever input is
 * left so a kept FastCGI connection stays in step, and one access-log line.
 * Every exit answers JSON in the dialect of the route or of the path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include <fastcgi.h>

#include "tokend/api/handlers.h"
#include "tokend/core/cidr.h"
#include "tokend/server/app.h"
#include "tokend/server/body.h"
#include "tokend/server/log.h"
#include "tokend/server/metrics.h"
#include "tokend/server/parse.h"
#include "tokend/store/store.h"

static unsigned long long rid_prefix;
static unsigned long long rid_counter;

int
td_dispatch_init(void)
{
	if (RAND_bytes((unsigned char *)&rid_prefix, sizeof(rid_prefix)) != 1) {
		td_log_error("RAND_bytes failed");
		return -1;
	}
	rid_counter = 0;
	return 0;
}

static int
request_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == TD_REQUEST_ID_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	}
	return i > 0;
}

/* Keeps a sane incoming X-Request-Id (nginx sets it from $request_id) so
 * logs correlate across the proxy; otherwise makes one. */
static void
request_id_assign(struct td_request *req)
{
	const char *given = td_request_header(req, "X-Request-Id");

	if (given != NULL && request_id_ok(given))	/* ≤ TD_REQUEST_ID_MAX characters */
		memcpy(req->request_id, given, strlen(given) + 1);
	else
		snprintf(req->request_id, sizeof(req->request_id), "%016llx%016llx",
			 rid_prefix, ++rid_counter);
}

static void
request_reset(struct td_request *req, FCGX_Request *fcgx)
{
	req->fcgx = fcgx;
	req->method = 0;
	req->method_name[0] = '\0';
	req->target.nsegments = 0;
	req->target.nparams = 0;
	memset(&req->match, 0, sizeof(req->match));
	req->dialect = TD_DIALECT_ADMIN;
	req->route_name = "-";
	req->body_len = 0;
	req->json = NULL;
	req->headers_len = 0;
	req->headers[0] = '\0';
	req->status = 0;
	req->responded = 0;
	req->close_connection = 0;
	req->rate_headers_set = 0;
	req->before_head = NULL;
	req->started_us = td_now_us();
}

void
td_request_release(struct td_request *req)
{
	free(req->body);
	req->body = NULL;
	req->body_alloc = 0;
}


static int
headers_within_limits(const struct td_request *req)
{
	char **p;
	const char *eq;

	for (p = req->fcgx->envp; p != NULL && *p != NULL; p++) {
		if (strncmp(*p, "HTTP_", 5) != 0)
			continue;
		eq = strchr(*p, '=');
		if (eq != NULL && strlen(eq + 1) > TD_HEADER_VALUE_MAX)
			return 0;
	}
	return 1;
}

/* Reads and throws away what is left of stdin, up to TD_BODY_DRAIN_MAX;
 * if more is left (or the stream broke) the connection is closed instead. */
static void
drain_input(struct td_request *req)
{
	char scratch[16384];
	size_t drained = 0;
	int n;

	while (drained <= TD_BODY_DRAIN_MAX) {
		n = FCGX_GetStr(scratch, sizeof(scratch), req->fcgx->in);
		if (n <= 0)
			break;
		drained += (size_t)n;
	}
	if (drained > TD_BODY_DRAIN_MAX || FCGX_GetError(req->fcgx->in) != 0)
		req->close_connection = 1;
}

/* Reads the body announced by CONTENT_LENGTH. Returns 0, or an HTTP status
 * with code and msg set. */
static int
read_body(struct td_request *req, size_t cap, const char **code, const char **msg)
{
	const char *cl = td_request_param(req, "CONTENT_LENGTH");
	long long want;
	size_t got = 0;
	char *grown;
	int n;

	if (cl == NULL || cl[0] == '\0')
		return 0;
	if (td_parse_int64(cl, strlen(cl), 0, INT64_MAX, &want) != 0) {
		*code = "bad_request";
		*msg = "invalid Content-Length";
		return 400;
	}
	if ((unsigned long long)want > cap) {
		*code = "payload_too_large";
		*msg = "request body exceeds the configured limit";
		return 413;
	}
	if ((size_t)want + 1 > req->body_alloc) {
		grown = realloc(req->body, (size_t)want + 1);
		if (grown == NULL) {
			*code = "internal";
			*msg = "out of memory";
			return 500;
		}
		req->body = grown;
		req->body_alloc = (size_t)want + 1;
	}
	while (got < (size_t)want) {
		n = FCGX_GetStr(req->body + got, (int)((size_t)want - got), req->fcgx->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < (size_t)want) {
		req->close_connection = 1;
		*code = FCGX_GetError(req->fcgx->in) ? "request_timeout" : "bad_request";
		*msg = FCGX_GetError(req->fcgx->in) ? "request body not received in time"
						    : "request body shorter than Content-Length";
		return FCGX_GetError(req->fcgx->in) ? 408 : 400;
	}
	req->body[got] = '\0';
	req->body_len = got;
	return 0;
}

static int
parse_body(struct td_ctx *ctx, struct td_request *req, const char **code, char *msg, size_t msglen)
{
	char why[128];

	if (req->body_len == 0)
		return 0;
	if (!td_media_type_is_json(td_request_header(req, "Content-Type"))) {
		*code = "unsupported_media_type";
		snprintf(msg, msglen, "request body must be application/json");
		return 415;
	}
	req->json = td_json_parse(req->body, req->body_len, ctx->cfg->json_max_depth,
				  why, sizeof(why));
	if (req->json == NULL) {
		*code = "invalid_json";
		snprintf(msg, msglen, "malformed JSON: %s", why);
		return 400;
	}
	return 0;
}

static void
route_and_handle(struct td_ctx *ctx, struct td_request *req, enum td_pool_kind pool)
{
	const struct td_route *routes = pool == TD_POOL_VERIFY ? td_verify_routes : td_routes;
	size_t nroutes = pool == TD_POOL_VERIFY ? td_verify_routes_count : td_routes_count;
	char uribuf[TD_PATH_MAX + TD_QUERY_MAX + 2], msg[192];
	enum td_target_status tst;
	const char *uri, *method, *code = NULL, *cmsg = NULL;
	int status, rc;

	method = td_request_param(req, "REQUEST_METHOD");
	if (method == NULL || strlen(method) >= sizeof(req->method_name)) {
		snprintf(req->method_name, sizeof(req->method_name), "-");
		td_respond_error(req, 400, "bad_request", NULL, "missing or invalid method");
		return;
	}
	memcpy(req->method_name, method, strlen(method) + 1);	/* length checked above */
	req->method = td_method_parse(method);

	uri = td_request_uri(req, uribuf, sizeof(uribuf));
	tst = uri ? td_target_parse(&req->target, uri) : TD_TARGET_TOO_LONG;
	/* the path is parsed before the query: even a bad query has a dialect */
	req->dialect = td_dialect_for_path(req->target.segments, req->target.nsegments);
	if (tst != TD_TARGET_OK) {
		td_respond_error(req, tst, tst == TD_TARGET_TOO_LONG ? "uri_too_long" : "bad_request",
				 NULL, tst == TD_TARGET_TOO_LONG ? "request target too long"
								 : "malformed request target");
		return;
	}
	if (!headers_within_limits(req)) {
		td_respond_error(req, 431, "header_too_large", NULL, "a request header is too large");
		return;
	}
	if (req->fcgx->role == FCGI_AUTHORIZER) {
		/* Apache mod_authnz_fcgi, lighttpd: no route, the request is the
		 * content request to decide on */
		req->dialect = TD_DIALECT_VERIFY;
		req->route_name = "authorize";
		if (td_api_authorize(ctx, req) != 0 && !req->responded)
			td_respond_error(req, 500, "internal", NULL, "internal error");
		return;
	}
	switch (td_router_match(routes, nroutes, req->method, req->target.segments,
				req->target.nsegments, &req->match)) {
	case TD_MATCH_NOT_FOUND:
		td_respond_error(req, 404, "route_not_found", NULL,
				 pool == TD_POOL_VERIFY ? "this listener serves the verify path only"
							: "no such endpoint");
		return;
	case TD_MATCH_BAD_METHOD:
		td_respond_error(req, 405, "method_not_allowed", NULL,
				 "method not allowed on this endpoint");
		return;
	case TD_MATCH_OK:
		break;
	}
	req->dialect = req->match.route->dialect;
	req->route_name = req->match.route->name;

	status = read_body(req, (size_t)ctx->cfg->body_max_bytes, &code, &cmsg);
	if (status != 0) {
		td_respond_error(req, status, code, NULL, cmsg);
		return;
	}
	status = parse_body(ctx, req, &code, msg, sizeof(msg));
	if (status != 0) {
		td_respond_error(req, status, code, NULL, msg);
		return;
	}
	rc = req->match.route->handler(ctx, req);
	req->before_head = NULL;	/* its argument lived in the handler */
	if (rc != 0 && !req->responded)
		td_respond_error(req, 500, "internal", NULL, "internal error");
}

/* The client for the access log: the address behind trusted proxies, as
 * address binding and leak reports see it; NULL when there is none. */
static const char *
client_text(const struct td_ctx *ctx, const struct td_request *req, char *out, size_t size)
{
	struct td_addr buf;

	if (td_api_client(ctx, req, &buf) == NULL)
		return NULL;
	td_addr_format(&buf, out, size);
	return out;
}

/* The route's index for the metrics: its place in td_routes (the verify
 * pool's table is td_routes' first entries), then "authorize", then "-". */
static int
metrics_route(const struct td_request *req, enum td_pool_kind pool)
{
	const struct td_route *r = req->match.route;

	if (req->fcgx->role == FCGI_AUTHORIZER)
		return (int)td_routes_count;
	if (r == NULL)
		return (int)td_routes_count + 1;
	return (int)(pool == TD_POOL_VERIFY ? r - td_verify_routes : r - td_routes);
}

void
td_dispatch(struct td_ctx *ctx, struct td_request *req, FCGX_Request *fcgx,
	    enum td_pool_kind pool)
{
	char client[TD_ADDR_TEXT_MAX + 1];
	long long micros;

	request_reset(req, fcgx);
	ctx->actor[0] = '\0';
	req->before_response = td_store_write_barrier;
	req->before_response_arg = ctx->store;
	req->rate_limit = ctx->cfg->rate_limit_requests;
	request_id_assign(req);
	route_and_handle(ctx, req, pool);
	if (!req->responded) {
		td_log_error("route %s sent no response", req->route_name);
		td_respond_error(req, 500, "internal", NULL, "internal error");
	}
	/* an authorizer request has no body stream to drain (FastCGI spec 6.3) */
	if (fcgx->role != FCGI_AUTHORIZER)
		drain_input(req);
	json_object_put(req->json);
	req->json = NULL;
	micros = td_now_us() - req->started_us;
	td_metrics_request(metrics_route(req, pool), req->status,
			   req->dialect == TD_DIALECT_VERIFY ? TD_LAT_VERIFY : TD_LAT_MANAGEMENT, micros);
	if (ctx->cfg->access_log)
		td_log_access(req->method_name, req->route_name, req->status, micros,
			      req->request_id, client_text(ctx, req, client, sizeof(client)),
			      ctx->actor);
}
