#include <inttypes.h>
#include <string.h>

#include "tokend/server/log.h"

#include "tokend/api/handlers.h"
#include "tokend/store/store.h"

int
td_respond_store(struct td_request *req, int store_rc)
{
	if (store_rc == TD_STORE_NOT_FOUND)
		td_respond_error(req, 404, "not_found", NULL, "This record could not be found");
	else if (store_rc == TD_STORE_REFUSED)
		td_respond_error(req, 503, "storage_refuses_writes", NULL,
				 "storage refuses writes (Redis is out of memory or cannot persist)");
	else
		td_respond_error(req, 503, "service_unavailable", NULL, "storage unavailable");
	return 0;
}

int
td_respond_invalid(struct td_request *req, const struct td_field_error *err)
{
	td_respond_error(req, 422, "invalid_field", err->field, err->message);
	return 0;
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

int
td_token_string(const struct td_ctx *ctx, const struct td_token *t, char *out, size_t size)
{
	struct td_token_ref ref;

	ref.kind = t->signed_kind;
	ref.kid = t->kid;
	ref.space_id = t->space_id;
	ref.id = t->id;
	memcpy(ref.secret, t->secret, TD_SECRET_BYTES);
	return td_token_format(ctx->keyring, &ref, out, size);
}

struct json_object *
td_token_string_json(const struct td_ctx *ctx, const struct td_token *t)
{
	char s[TD_TOKEN_STR_MAX];

	return td_token_string(ctx, t, s, sizeof(s)) == 0 ? json_object_new_string(s) : NULL;
}

void
td_activity(struct td_ctx *ctx, int64_t space_id, const char *actor, const char *action,
	    int64_t resource_id)
{
	/* the change itself succeeded; a lost log entry is logged, not fatal */
	if (td_store_activity_add(ctx->store, space_id, actor, action, resource_id) != TD_STORE_OK)
		td_log_error("activity %s on space %" PRId64 " not recorded", action, space_id);
}
