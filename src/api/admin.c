#include "tokend/api/admin.h"

#ifndef TD_BUILD
#define TD_BUILD "unknown"
#endif

int
td_api_health(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *o = json_object_new_object();
	int redis_ok = td_core_health(ctx) == 0;

	json_object_object_add(o, "status", json_object_new_string(redis_ok ? "ok" : "unavailable"));
	json_object_object_add(o, "redis", json_object_new_string(redis_ok ? "ok" : "down"));
	json_object_object_add(o, "version", json_object_new_string(TD_VERSION));
	return td_respond_json(req, redis_ok ? 200 : 503, o);
}

int
td_api_version(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *o = json_object_new_object();

	(void)ctx;
	json_object_object_add(o, "name", json_object_new_string("tokend"));
	json_object_object_add(o, "version", json_object_new_string(TD_VERSION));
	json_object_object_add(o, "build", json_object_new_string(TD_BUILD));
	return td_respond_json(req, 200, o);
}

/* The document of every route, as the repository holds it (docs/openapi.json,
 * embedded at build time): no credential, it tells nothing a client may not know. */
int
td_api_openapi(struct td_ctx *ctx, struct td_request *req)
{
	(void)ctx;
	return td_respond_json_text(req, 200, (const char *)td_openapi_json, td_openapi_json_len);
}
