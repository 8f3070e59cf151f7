#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tokend/api/errors.h"
#include "tokend/server/http.h"

static struct json_object *
render_admin(const struct td_error *e, const char *request_id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(e->message));
	json_object_object_add(o, "code", json_object_new_string(e->code));
	json_object_object_add(o, "status", json_object_new_int(e->status));
	if (e->field != NULL)
		json_object_object_add(o, "field", json_object_new_string(e->field));
	json_object_object_add(o, "request_id", json_object_new_string(request_id));
	return o;
}

static struct json_object *
render_storyblok(const struct td_error *e, const char *request_id)
{
	struct json_object *o, *list;

	(void)request_id;
	if (e->status == 404) {
		list = json_object_new_array();
		json_object_array_add(list, json_object_new_string("This record could not be found"));
		return list;
	}
	o = json_object_new_object();
	if (e->status == 422 && e->field != NULL) {
		list = json_object_new_array();
		json_object_array_add(list, json_object_new_string(e->message));
		json_object_object_add(o, e->field, list);
		return o;
	}
	json_object_object_add(o, "error", json_object_new_string(e->message));
	return o;
}

/* tokend's codes that DatoCMS names differently; the rest are upper-cased. */
static const struct {
	const char *code;
	const char *dato;
} dato_codes[] = {
	{ "route_not_found", "INVALID_ENDPOINT" },
	{ "method_not_allowed", "INVALID_ENDPOINT" },
	{ "invalid_json", "INVALID_JSON_BODY" },
	{ "unsupported_media_type", "INVALID_CONTENT_TYPE_HEADER" },
	{ "unauthorized", "INVALID_AUTHORIZATION_HEADER" },
	{ "forbidden", "INSUFFICIENT_PERMISSIONS" },
};

static struct json_object *
render_datocms(const struct td_error *e, const char *request_id)
{
	struct json_object *doc, *list, *err, *attrs, *details;
	char code[64], id[8], url[160];
	unsigned long hash = 2166136261u;
	size_t i;

	(void)request_id;
	snprintf(code, sizeof(code), "%s", e->code);
	for (i = 0; code[i] != '\0'; i++)
		code[i] = (char)toupper((unsigned char)code[i]);
	for (i = 0; i < sizeof(dato_codes) / sizeof(dato_codes[0]); i++)
		if (strcmp(e->code, dato_codes[i].code) == 0)
			snprintf(code, sizeof(code), "%s", dato_codes[i].dato);
	/* DatoCMS error ids are 6 hex digits, constant per kind of error */
	for (i = 0; code[i] != '\0'; i++)
		hash = ((hash ^ (unsigned char)code[i]) * 16777619u) & 0xffffffffu;
	snprintf(id, sizeof(id), "%06lx", hash & 0xffffff);
	snprintf(url, sizeof(url), "https://www.datocms.com/docs/content-management-api/errors#%s", code);

	details = json_object_new_object();
	json_object_object_add(details, "message", json_object_new_string(e->message));
	if (e->field != NULL)
		json_object_object_add(details, "field", json_object_new_string(e->field));
	attrs = json_object_new_object();
	json_object_object_add(attrs, "code", json_object_new_string(code));
	json_object_object_add(attrs, "doc_url", json_object_new_string(url));
	json_object_object_add(attrs, "details", details);
	if (e->status == 503)
		json_object_object_add(attrs, "transient", json_object_new_boolean(1));
	err = json_object_new_object();
	json_object_object_add(err, "id", json_object_new_string(id));
	json_object_object_add(err, "type", json_object_new_string("api_error"));
	json_object_object_add(err, "attributes", attrs);
	list = json_object_new_array();
	json_object_array_add(list, err);
	doc = json_object_new_object();
	json_object_object_add(doc, "data", list);
	return doc;
}

static const char *
problem_type(int status)
{
	switch (status) {
	case 400: return "https://tools.ietf.org/html/rfc9110#section-15.5.1";
	case 401: return "https://tools.ietf.org/html/rfc9110#section-15.5.2";
	case 403: return "https://tools.ietf.org/html/rfc9110#section-15.5.4";
	case 404: return "https://tools.ietf.org/html/rfc9110#section-15.5.5";
	case 405: return "https://tools.ietf.org/html/rfc9110#section-15.5.6";
	case 408: return "https://tools.ietf.org/html/rfc9110#section-15.5.9";
	case 409: return "https://tools.ietf.org/html/rfc9110#section-15.5.10";
	case 413: return "https://tools.ietf.org/html/rfc9110#section-15.5.14";
	case 414: return "https://tools.ietf.org/html/rfc9110#section-15.5.15";
	case 415: return "https://tools.ietf.org/html/rfc9110#section-15.5.16";
	case 422: return "https://tools.ietf.org/html/rfc9110#section-15.5.21";
	case 429: return "https://tools.ietf.org/html/rfc6585#section-4";
	case 431: return "https://tools.ietf.org/html/rfc6585#section-5";
	case 503: return "https://tools.ietf.org/html/rfc9110#section-15.6.4";
	default:  return "https://tools.ietf.org/html/rfc9110#section-15.6.1";
	}
}

/* W3C traceparent shape, "00-<32 hex>-<16 hex>-00", from the request id. */
static void
trace_id(const char *request_id, char *out, size_t size)
{
	char hex[33];
	size_t i, n = 0;

	for (i = 0; request_id[i] != '\0' && n < 32; i++)
		if (isxdigit((unsigned char)request_id[i]))
			hex[n++] = (char)tolower((unsigned char)request_id[i]);
	while (n < 32)
		hex[n++] = '0';
	hex[32] = '\0';
	snprintf(out, size, "00-%s-%.16s-00", hex, hex + 16);
}

static struct json_object *
render_softwareone(const struct td_error *e, const char *request_id)
{
	struct json_object *o = json_object_new_object(), *errors, *list;
	char trace[64];

	trace_id(request_id, trace, sizeof(trace));
	json_object_object_add(o, "type", json_object_new_string(problem_type(e->status)));
	json_object_object_add(o, "title", json_object_new_string(td_http_reason(e->status)));
	json_object_object_add(o, "status", json_object_new_int(e->status));
	json_object_object_add(o, "detail", json_object_new_string(e->message));
	json_object_object_add(o, "traceId", json_object_new_string(trace));
	if (e->field != NULL) {
		list = json_object_new_array();
		json_object_array_add(list, json_object_new_string(e->message));
		errors = json_object_new_object();
		json_object_object_add(errors, e->field, list);
		json_object_object_add(o, "errors", errors);
	}
	return o;
}

/* DatoCMS: "returned in every response" — before a caller is known (bad
 * version, bad token, unknown path) the whole allowance shows */
static void
datocms_headers(struct td_request *req)
{
	char limit[16];

	if (req->rate_headers_set || req->rate_limit <= 0)
		return;
	snprintf(limit, sizeof(limit), "%d", req->rate_limit);
	td_response_header(req, "X-RateLimit-Limit", limit);
	td_response_header(req, "X-RateLimit-Remaining", limit);
	req->rate_headers_set = 1;
}

/* nginx auth_request turns any answer but 2xx, 401 and 403 into a 500 for
 * the client: a bad verify request is a refusal */
static int
verify_status(const struct td_request *req, int status)
{
	if ((req->method & (TD_METHOD_GET | TD_METHOD_HEAD)) && status >= 400 && status < 500 &&
	    status != 401 && status != 403)
		return 403;
	return status;
}

const struct td_dialect_hooks td_dialect_hooks[TD_DIALECT__MAX] = {
	[TD_DIALECT_ADMIN] = { render_admin, NULL, NULL },
	[TD_DIALECT_STORYBLOK] = { render_storyblok, NULL, NULL },
	[TD_DIALECT_DATOCMS] = { render_datocms, datocms_headers, NULL },
	[TD_DIALECT_SOFTWAREONE] = { render_softwareone, NULL, NULL },
	[TD_DIALECT_VERIFY] = { render_admin, NULL, verify_status },
};

struct json_object *
td_error_render(enum td_dialect dialect, const struct td_error *e, const char *request_id)
{
	if (dialect < 0 || dialect >= TD_DIALECT__MAX)
		dialect = TD_DIALECT_ADMIN;
	return td_dialect_hooks[dialect].render_error(e, request_id);
}
