/*
 * The views' shared edge: a request's credential and space into a core
 * call, and a core error into the route's dialect. Each dialect maps every
 * core error through its own row of one table; no view decides a status.
 */
#include <stdio.h>
#include <string.h>

#include "tokend/api/handlers.h"
#include "tokend/server/config.h"
#include "tokend/server/json_write.h"
#include "tokend/server/log.h"
#include "tokend/server/parse.h"

struct error_map {
	int status;
	const char *code;	/* the code the dialect's renderer shows */
	const char *message;	/* replaces the core's, when set */
};

#define ROWS(forbidden, invalid, missing, builtin, self, unauth, unauth_msg, conflict, quota, \
	     in_use) { \
	[TD_ERR_UNAUTHENTICATED] = { 401, unauth, unauth_msg }, \
	[TD_ERR_FORBIDDEN] = { 403, forbidden, NULL }, \
	[TD_ERR_ADDRESS] = { 403, "address_not_allowed", NULL }, \
	[TD_ERR_EXCEEDS] = { 403, forbidden, NULL }, \
	[TD_ERR_NOT_FOUND] = { 404, "not_found", NULL }, \
	[TD_ERR_INVALID] = invalid, \
	[TD_ERR_MISSING] = missing, \
	[TD_ERR_SPACE_REQUIRED] = invalid, \
	[TD_ERR_BUILTIN] = builtin, \
	[TD_ERR_SELF] = self, \
	[TD_ERR_TRANSITION] = invalid, \
	[TD_ERR_EXISTS] = invalid, \
	[TD_ERR_CONFLICT] = { 409, conflict, NULL }, \
	[TD_ERR_QUOTA] = quota, \
	[TD_ERR_IN_USE] = in_use, \
	[TD_ERR_RATE_LIMITED] = { 429, "rate_limit_exceeded", NULL }, \
	[TD_ERR_UNAVAILABLE] = { 503, "service_unavailable", NULL }, \
	[TD_ERR_REFUSED] = { 503, "storage_refuses_writes", NULL }, \
	[TD_ERR_INTERNAL] = { 500, "internal", NULL }, \
}

#define E422 { 422, "invalid_field", NULL }
#define QUOTA422 { 422, "limit_reached", NULL }
#define INUSE422 { 422, "in_use", NULL }

static const struct error_map error_maps[TD_DIALECT__MAX][TD_ERR__MAX] = {
	[TD_DIALECT_ADMIN] = ROWS("forbidden", E422, E422, E422, E422, "unauthorized", "Unauthorized",
				  "conflict", QUOTA422, INUSE422),
	[TD_DIALECT_STORYBLOK] = ROWS("forbidden", E422, E422, E422, E422, "unauthorized",
				      "Unauthorized", "conflict", QUOTA422, INUSE422),
	[TD_DIALECT_DATOCMS] = ROWS("INSUFFICIENT_PERMISSIONS", ((struct error_map){ 422, "INVALID_FIELD", NULL }),
				    ((struct error_map){ 422, "INVALID_ATTRIBUTES", NULL }),
				    ((struct error_map){ 422, "NON_EDITABLE_ACCESS_TOKEN", NULL }),
				    ((struct error_map){ 422, "CANNOT_DESTROY_CURRENT_USER", NULL }),
				    "INVALID_AUTHORIZATION_HEADER", "Unauthorized", "STALE_ITEM_VERSION",
				    ((struct error_map){ 422, "PLAN_UPGRADE_REQUIRED", NULL }),
				    ((struct error_map){ 422, "DELETE_RESTRICTION", NULL })),
	[TD_DIALECT_SOFTWAREONE] = ROWS("forbidden", ((struct error_map){ 400, "bad_request", NULL }),
					((struct error_map){ 400, "bad_request", NULL }),
					((struct error_map){ 400, "bad_request", NULL }),
					((struct error_map){ 400, "bad_request", NULL }),
					"unauthorized",
					"Check if the Authorization header is present and contains "
					"a valid token value", "conflict",
					((struct error_map){ 400, "bad_request", NULL }),
					((struct error_map){ 400, "bad_request", NULL })),
	[TD_DIALECT_VERIFY] = ROWS("forbidden", E422, E422, E422, E422, "unauthorized", "Unauthorized",
				   "conflict", QUOTA422, INUSE422),
};

void
td_api_rate_headers(struct td_request *req, const struct td_call *c)
{
	char n[24];

	if (!c->rated || req->rate_headers_set)
		return;
	snprintf(n, sizeof(n), "%lld", c->rate_limit);
	td_response_header(req, "X-RateLimit-Limit", n);
	snprintf(n, sizeof(n), "%lld", c->rate_remaining);
	td_response_header(req, "X-RateLimit-Remaining", n);
	req->rate_headers_set = 1;
}

static void
late_rate_headers(struct td_request *req, void *call)
{
	td_api_rate_headers(req, call);
}

/* The request's call while its start still rides on a round trip not yet
 * made (td_core_begin left it out); NULL otherwise. */
static struct td_call *
start_pending(const struct td_request *req)
{
	struct td_call *c = req->before_head == late_rate_headers ? req->before_head_arg : NULL;

	return c != NULL && c->start_pending ? c : NULL;
}

int
td_api_fail(struct td_request *req, const struct td_call *c)
{
	struct td_call *pending = start_pending(req);

	/* failed before its first round trip (a bad body or id, a rule): the
	 * start is taken now, so the call is counted, and refused as at its
	 * begin (429, 404 for no such space) before its own error */
	if (pending != NULL && td_core_settle_start(pending) != TD_OK)
		c = pending;
	enum td_dialect d = req->dialect >= 0 && req->dialect < TD_DIALECT__MAX ? req->dialect
										  : TD_DIALECT_ADMIN;
	enum td_core_err e = c->err.code > TD_OK && c->err.code < TD_ERR__MAX ? c->err.code
									       : TD_ERR_INTERNAL;
	const struct error_map *m = &error_maps[d][e];
	const char *code = m->code;
	char n[24];

	td_api_rate_headers(req, c);
	if (e == TD_ERR_RATE_LIMITED) {
		/* whole seconds, at least 1: Storyblok's and SoftwareOne's clients
		 * read Retry-After, DatoCMS's X-RateLimit-Reset (seconds) */
		snprintf(n, sizeof(n), "%lld", c->retry_after_ms < 1000 ? 1
					       : (c->retry_after_ms + 999) / 1000);
		td_response_header(req, "Retry-After", n);
		td_response_header(req, "X-RateLimit-Reset", n);
	}
	/* DatoCMS tells a missing credential from a bad one */
	if (d == TD_DIALECT_DATOCMS && e == TD_ERR_UNAUTHENTICATED &&
	    td_request_header(req, "Authorization") == NULL)
		code = "INVALID_SITE";
	if (d == TD_DIALECT_DATOCMS && e == TD_ERR_REFUSED)
		code = "SERVICE_UNAVAILABLE";	/* DatoCMS has one code for both */
	return td_respond_error(req, m->status, code, c->err.field,
				m->message != NULL ? m->message
				: c->err.message != NULL ? c->err.message : "error"), 0;
}

int
td_api_fail_parse(struct td_request *req, const struct td_core_error *err)
{
	struct td_call c;

	memset(&c, 0, sizeof(c));
	c.err = *err;
	return td_api_fail(req, &c);
}

const struct td_addr *
td_api_client(const struct td_ctx *ctx, const struct td_request *req, struct td_addr *buf)
{
	const struct td_cidr_list *trusted = &ctx->cfg->trusted_proxies;

	/* X-Forwarded-For is looked up only where some peer may speak for a client */
	return td_client_address(trusted, td_request_param(req, "REMOTE_ADDR"),
				 trusted->n > 0 ? td_request_header(req, "X-Forwarded-For") : NULL,
				 buf) == 0 ? buf : NULL;
}

int
td_api_peer_trusted(const struct td_ctx *ctx, const struct td_request *req)
{
	return td_peer_trusted(&ctx->cfg->trusted_proxies, td_request_param(req, "REMOTE_ADDR"));
}


/* The call begun (names NULL: from and named), or its error answered. */
static int
begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c, const char *resource,
      enum td_op op, enum td_space_from from, int64_t named, const struct td_space_names *names)
{
	const struct td_addr *client;
	struct td_addr buf;
	const char *cred;
	size_t len = 0;
	int rc;

	c->resource = resource;
	client = td_api_client(ctx, req, &buf);
	cred = td_auth_bearer(td_request_header(req, "Authorization"), &len);
	rc = names != NULL ? td_core_begin_named(ctx, c, cred, len, client, op, names)
			   : td_core_begin(ctx, c, cred, len, client, op, from, named);
	if (rc != TD_OK)
		return td_api_fail(req, c), -1;
	if (c->start_pending) {	/* the limiters answer with the call's first round trip */
		req->before_head = late_rate_headers;
		req->before_head_arg = c;
	}
	td_api_rate_headers(req, c);
	return 0;
}

int
td_api_begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c,
	     const char *resource, enum td_op op, enum td_space_from from, int64_t named)
{
	return begin(ctx, req, c, resource, op, from, named, NULL);
}

int
td_api_begin_named(struct td_ctx *ctx, struct td_request *req, struct td_call *c,
		   const char *resource, enum td_op op, struct td_space_names *names)
{
	names->header = td_api_named_space(req);
	return begin(ctx, req, c, resource, op, TD_SPACE_CALLER, 0, names);
}

int64_t
td_api_named_space(const struct td_request *req)
{
	const char *hdr = td_request_header(req, "X-Space-Id");
	int64_t v;

	if (hdr == NULL)
		return 0;
	return td_parse_id(hdr, strlen(hdr), TD_ID_MAX, &v) == 0 ? v : -1;
}

struct json_object *
td_body_member(const struct td_request *req, const char *key)
{
	struct json_object *v;

	if (req->json == NULL || !json_object_is_type(req->json, json_type_object) ||
	    !json_object_object_get_ex(req->json, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* A credential's reach: "all", or its space ids. */
struct json_object *
td_json_spaces(int all_spaces, const int64_t *spaces, int n)
{
	struct json_object *a;
	int i;

	if (all_spaces)
		return json_object_new_string("all");
	a = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int64(spaces[i]));
	return a;
}

/* scope bits as {"resource": "read"|"write"}, as PATs are written */
struct json_object *
td_json_scopes(unsigned scopes)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < td_pat_resources_count; i++) {
		const struct td_pat_resource *r = &td_pat_resources[i];

		if (scopes & r->write)
			json_object_object_add(o, r->name, json_object_new_string("write"));
		else if (scopes & r->read)
			json_object_object_add(o, r->name, json_object_new_string("read"));
	}
	return o;
}

struct json_object *
td_json_cidrs(const struct td_cidr_list *l)
{
	struct json_object *a = json_object_new_array();
	char one[TD_CIDR_TEXT_MAX + 1];
	int i;

	for (i = 0; i < l->n; i++) {
		td_cidr_format(&l->r[i], one, sizeof(one));
		json_object_array_add(a, json_object_new_string(one));
	}
	return a;
}

void
td_write_cidrs(struct printbuf *pb, const struct td_cidr_list *l)
{
	char one[TD_CIDR_TEXT_MAX + 1];
	int i;

	td_jw_raw(pb, "[");
	for (i = 0; i < l->n; i++) {
		td_cidr_format(&l->r[i], one, sizeof(one));
		if (i > 0)
			td_jw_raw(pb, ",");
		td_jw_str(pb, one);
	}
	td_jw_raw(pb, "]");
}

struct json_object *
td_json_time_ms(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return NULL;
	td_format_time_ms(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

struct json_object *
td_json_time_s(int64_t secs)
{
	return secs > 0 ? td_json_time_ms(secs * 1000) : NULL;
}
