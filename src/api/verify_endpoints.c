/*
 * The verify endpoints:
 *   GET  /v1/verify   for nginx auth_request: the original URI comes in
 *                     X-Original-URI (else this request's own URI); answers
 *                     only 200, 401 or 403, with X-Tokend-* headers, the
 *                     canonical URI (without the token) in X-Tokend-Uri
 *   POST /v1/verify   for programs: {"token","uri","method","remote_addr"} →
 *                     200 {"valid","reason","token"}
 *   the FastCGI Authorizer role (Apache mod_authnz_fcgi, lighttpd): the
 *   same decision on the request itself, with Variable-TOKEND_* headers
 */
#include <string.h>

#include "tokend/api/handlers.h"
#include "tokend/core/verify.h"
#include "tokend/server/metrics.h"
#include "tokend/server/out.h"

/* The token a content request presents: ?token= of its URI, else
 * Authorization (raw or Bearer), else X-Token. NULL when none. */
static const char *
token_of(const struct td_request *req, const struct td_target *uri, size_t *len)
{
	const char *tok = td_target_query(uri, "token");

	if (tok != NULL && tok[0] != '\0') {
		*len = strlen(tok);
		return tok;
	}
	tok = td_auth_bearer(td_request_header(req, "Authorization"), len);
	if (tok != NULL)
		return tok;
	return td_auth_bearer(td_request_header(req, "X-Token"), len);
}

/* {"valid","reason","token":{…}|null}, written directly: every value is a
 * number or a fixed identifier, and this runs on every content request. */
static int
respond_result(struct td_request *req, int status, const struct td_verify_result *v)
{
	char buf[256];
	struct td_out body;

	if ((int)v->reason < TD_METRICS_REASONS_MAX)
		td_metric_bump(&td_metrics_mine->verify[v->reason]);
	td_out_init(&body, buf, sizeof(buf));
	td_out_put(&body, v->status == 200 ? "{\"valid\":true,\"reason\":\""
					    : "{\"valid\":false,\"reason\":\"");
	td_out_put(&body, td_verify_reason_name(v->reason));
	if (v->have_token) {
		td_out_put(&body, "\",\"token\":{\"id\":");
		td_out_i64(&body, v->token_id);
		td_out_put(&body, ",\"space_id\":");
		td_out_i64(&body, v->space_id);
		td_out_put(&body, ",\"access\":\"");
		td_out_put(&body, td_access_name(v->access));
		td_out_put(&body, "\",\"min_cache\":");
		td_out_i64(&body, v->min_cache);
		td_out_put(&body, "}}");
	} else {
		td_out_put(&body, "\",\"token\":null}");
	}
	if (body.overflow)
		return -1;
	return td_respond_json_text(req, status, body.buf, body.len);
}

/* A number as a header value. */
static void
number_header(struct td_request *req, const char *name, int64_t value)
{
	char buf[24];
	struct td_out t;

	td_out_init(&t, buf, sizeof(buf));
	td_out_i64(&t, value);
	td_response_header(req, name, buf);
}

/* The token facts as headers: X-Tokend-Token-Id … or, for the authorizer
 * role, Variable-TOKEND_TOKEN_ID … (Apache turns those into env vars). */
static void
fact_headers(struct td_request *req, const struct td_verify_result *v,
	     const struct td_canon_uri *uri, int authorizer)
{
	static const char *const names[2][7] = {
		{ "X-Tokend-Token-Id", "X-Tokend-Space-Id", "X-Tokend-Access", "X-Tokend-Min-Cache",
		  "X-Tokend-Draft", "X-Tokend-Degraded", "X-Tokend-Uri" },
		{ "Variable-TOKEND_TOKEN_ID", "Variable-TOKEND_SPACE_ID", "Variable-TOKEND_ACCESS",
		  "Variable-TOKEND_MIN_CACHE", "Variable-TOKEND_DRAFT", "Variable-TOKEND_DEGRADED",
		  "Variable-TOKEND_URI" },
	};
	const char *const *n = names[authorizer ? 1 : 0];

	if (!v->have_token || v->status != 200)
		return;
	number_header(req, n[0], v->token_id);
	number_header(req, n[1], v->space_id);
	td_response_header(req, n[2], td_access_name(v->access));
	number_header(req, n[3], v->min_cache);
	td_response_header(req, n[4], v->draft ? "1" : "0");
	if (v->degraded)
		td_response_header(req, n[5], "1");
	/* what the web server forwards and caches under: never the token */
	td_response_header(req, n[6], uri->text);
}

static int
respond_decision(struct td_request *req, const struct td_verify_result *v,
		 const struct td_canon_uri *uri, int authorizer)
{
	fact_headers(req, v, uri, authorizer);
	if (v->status != 200)
		td_response_header(req, "X-Tokend-Reason", td_verify_reason_name(v->reason));
	return respond_result(req, v->status, v);
}

/* A refusal before any token is read: the URI has no one reading. */
static void
bad_uri(struct td_verify_result *v)
{
	memset(v, 0, sizeof(*v));
	v->reason = TD_VERIFY_BAD_URI;
	v->status = 403;
}

/* Canonicalizes the content request's URI and judges the token it
 * presents, from the address the content request came from (nginx passes
 * the main request's $remote_addr to the auth_request subrequest). */
static void
judge(struct td_ctx *ctx, struct td_request *req, const char *raw, struct td_verify_result *v)
{
	struct td_canon_uri *uri = &ctx->verify_uri;
	struct td_addr client;
	const char *tok;
	size_t len = 0;

	if (raw == NULL || td_uri_canonicalize(raw, strlen(raw), uri) != TD_URI_OK) {
		uri->text[0] = '\0';
		bad_uri(v);
		return;
	}
	tok = token_of(req, &uri->t, &len);
	td_verify(ctx, tok, len, &uri->t, td_api_client(ctx, req, &client), v);
}

/* GET /v1/verify */
int
td_api_verify_get(struct td_ctx *ctx, struct td_request *req)
{
	char buf[TD_PATH_MAX + TD_QUERY_MAX + 2];
	const char *raw = td_request_header(req, "X-Original-URI");
	struct td_verify_result v;

	judge(ctx, req, raw != NULL ? raw : td_request_uri(req, buf, sizeof(buf)), &v);
	return respond_decision(req, &v, &ctx->verify_uri, 0);
}

/* POST /v1/verify */
int
td_api_verify_post(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *tok = NULL, *uri = NULL, *method = NULL, *addr = NULL;
	struct td_canon_uri *canon = &ctx->verify_uri;
	struct td_verify_result v;
	const struct td_addr *from;
	struct td_addr client;
	const char *uri_s = "/";
	size_t uri_len = 1;

	if (req->json == NULL || !json_object_is_type(req->json, json_type_object) ||
	    !json_object_object_get_ex(req->json, "token", &tok) ||
	    !json_object_is_type(tok, json_type_string))
		return td_respond_error(req, 422, "invalid_field", "token", "can't be blank"), 0;
	if (json_object_object_get_ex(req->json, "uri", &uri) &&
	    !json_object_is_type(uri, json_type_null)) {
		if (!json_object_is_type(uri, json_type_string))
			return td_respond_error(req, 422, "invalid_field", "uri", "must be a string"), 0;
		uri_s = json_object_get_string(uri);
		uri_len = (size_t)json_object_get_string_len(uri);
	}
	if (json_object_object_get_ex(req->json, "method", &method) &&
	    !json_object_is_type(method, json_type_null) &&
	    (!json_object_is_type(method, json_type_string) ||
	     (strcmp(json_object_get_string(method), "GET") != 0 &&
	      strcmp(json_object_get_string(method), "HEAD") != 0)))
		return td_respond_error(req, 422, "invalid_field", "method",
					"delivery tokens only read: GET or HEAD"), 0;
	if (td_uri_canonicalize(uri_s, uri_len, canon) != TD_URI_OK)
		return td_respond_error(req, 422, "invalid_field", "uri", canon->why), 0;
	/* a program verifying for its own client names that client's address
	 * (only a program trusted as a proxy is: anyone else could name an
	 * address inside a stolen token's ranges); else the address is the
	 * program's own */
	if (json_object_object_get_ex(req->json, "remote_addr", &addr) &&
	    !json_object_is_type(addr, json_type_null)) {
		if (!json_object_is_type(addr, json_type_string) ||
		    td_addr_parse(json_object_get_string(addr),
				  (size_t)json_object_get_string_len(addr), &client) < 0)
			return td_respond_error(req, 422, "invalid_field", "remote_addr",
						"must be an IP address"), 0;
		if (!td_api_peer_trusted(ctx, req))
			return td_respond_error(req, 422, "invalid_field", "remote_addr",
						"is taken only from a caller in trusted_proxies"), 0;
		from = &client;
	} else {
		from = td_api_client(ctx, req, &client);
	}
	td_verify(ctx, json_object_get_string(tok), (size_t)json_object_get_string_len(tok),
		  &canon->t, from, &v);
	return respond_result(req, 200, &v);
}

/* The FastCGI Authorizer role: the request is the content request itself,
 * judged on its URI as the client sent it. */
int
td_api_authorize(struct td_ctx *ctx, struct td_request *req)
{
	char buf[TD_PATH_MAX + TD_QUERY_MAX + 2];
	struct td_verify_result v;

	judge(ctx, req, td_request_uri(req, buf, sizeof(buf)), &v);
	return respond_decision(req, &v, &ctx->verify_uri, 1);
}
