/*
 * What every view shares: starting a core call from a request, answering a
 * core error in the route's dialect (one table per dialect, common.c), and
 * the routes' handlers. A handler parses, calls one core function, renders.
 */
#ifndef TOKEND_API_H
#define TOKEND_API_H

#include "tokend/core/auth.h"
#include "tokend/core/core.h"
#include "tokend/server/http.h"

/* Starts c for op from the request's Authorization header; on failure the
 * error is answered and -1 returned. Sets the rate-limit headers. */
int td_api_begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c,
		 const char *resource, enum td_op op, enum td_space_from from, int64_t named);

/* The same in TD_SPACE_CALLER mode, for a view whose body may name the
 * space too: names->header is filled from X-Space-Id, the body's name is
 * the view's (see td_core_begin_named). */
int td_api_begin_named(struct td_ctx *ctx, struct td_request *req, struct td_call *c,
		       const char *resource, enum td_op op, struct td_space_names *names);

/* The address the request comes from (core/cidr.h: REMOTE_ADDR, or
 * X-Forwarded-For from a trusted_proxies peer) in *buf; NULL when it
 * cannot be known. */
/* Whether the web server's peer is one of trusted_proxies. */
int td_api_peer_trusted(const struct td_ctx *ctx, const struct td_request *req);
const struct td_addr *td_api_client(const struct td_ctx *ctx, const struct td_request *req,
				    struct td_addr *buf);

/* Sets X-RateLimit-Limit and -Remaining when c was counted. */
void td_api_rate_headers(struct td_request *req, const struct td_call *c);

/* Answers c->err in the route's dialect (status and code from the
 * dialect's table). Always returns 0: the handler is done. */
int td_api_fail(struct td_request *req, const struct td_call *c);

/* Answers a request-shape error found while parsing (before the core). */
int td_api_fail_parse(struct td_request *req, const struct td_core_error *err);

/* The X-Space-Id header: 0 when absent, -1 when not a space id. */
int64_t td_api_named_space(const struct td_request *req);

/* The object under key in the JSON body ({"api_key": {...}}), or NULL. */
struct json_object *td_body_member(const struct td_request *req, const char *key);

/* Scope bits as a PAT shows them: {"spaces": "read"|"write", ...}. */
struct json_object *td_json_scopes(unsigned scopes);
struct json_object *td_json_spaces(int all_spaces, const int64_t *spaces, int n);

/* Address ranges, each in its one spelling: a JSON array ([] when none),
 * as a json-c tree or appended as text. */
struct json_object *td_json_cidrs(const struct td_cidr_list *l);
struct printbuf;
void td_write_cidrs(struct printbuf *pb, const struct td_cidr_list *l);

/* ISO 8601 string or null. */
struct json_object *td_json_time_ms(int64_t ms);
struct json_object *td_json_time_s(int64_t secs);

int td_api_spaces_list(struct td_ctx *ctx, struct td_request *req);
int td_api_spaces_create(struct td_ctx *ctx, struct td_request *req);
int td_api_space_get(struct td_ctx *ctx, struct td_request *req);
int td_api_space_update(struct td_ctx *ctx, struct td_request *req);
int td_api_space_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_space_activities(struct td_ctx *ctx, struct td_request *req);
int td_api_account_activities(struct td_ctx *ctx, struct td_request *req);

int td_api_storyblok_list(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_create(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_get(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_update(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_regenerate(struct td_ctx *ctx, struct td_request *req);

int td_api_pats_list(struct td_ctx *ctx, struct td_request *req);
int td_api_pats_create(struct td_ctx *ctx, struct td_request *req);
int td_api_pat_get(struct td_ctx *ctx, struct td_request *req);
int td_api_pat_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_whoami(struct td_ctx *ctx, struct td_request *req);

int td_api_dato_list(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_find(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_create(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_update(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_regenerate(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_destroy(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_roles(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_role(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_role_create(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_role_update(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_role_destroy(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_role_duplicate(struct td_ctx *ctx, struct td_request *req);

int td_api_swo_list(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_get(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_create(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_update(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_enable(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_disable(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_modules(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_module(struct td_ctx *ctx, struct td_request *req);

int td_api_leak_report(struct td_ctx *ctx, struct td_request *req);

int td_api_verify_get(struct td_ctx *ctx, struct td_request *req);
int td_api_verify_post(struct td_ctx *ctx, struct td_request *req);
/* The FastCGI Authorizer role, dispatched on FCGI_ROLE, not on a route. */
int td_api_authorize(struct td_ctx *ctx, struct td_request *req);

#endif
