/*
 * The Storyblok Management API view of tokens:
 *   GET|POST /v1/spaces/{space_id}/api_keys
 *   GET|PUT|DELETE /v1/spaces/{space_id}/api_keys/{id}
 *   POST /v1/spaces/{space_id}/api_keys/{id}/regenerate (tokend's addition)
 * Bodies are wrapped ({"api_key": {...}}, {"api_keys": [...]}); create
 * answers 201, delete answers 200 with the deleted object, validation 422
 * as {"field": ["message"]}, unknown space or token 404
 * ["This record could not be found"] (see errors.c). Each handler parses,
 * calls one core function and renders.
 */
#include <string.h>

#include <json-c/printbuf.h>

#include "tokend/api/fields.h"
#include "tokend/api/handlers.h"
#include "tokend/server/json_write.h"

#define RESOURCE "api_key"

/* One api_key object, written as text: the list of a 10,000-token space
 * renders it 10,000 times (json_write.h says why not json-c trees). */
static int
api_key_write(struct printbuf *pb, const struct td_token_view *v)
{
	const struct td_token *t = v->t;

	td_jw_raw(pb, "{\"id\":");
	td_jw_int(pb, t->id);
	td_jw_raw(pb, ",\"access\":");
	td_jw_str(pb, td_access_name(t->access));
	td_jw_raw(pb, ",\"branch_id\":");
	td_jw_int_or_null(pb, t->branch_id);
	td_jw_raw(pb, ",\"name\":");
	td_jw_str_or_null(pb, t->has_name ? t->name : NULL);
	td_jw_raw(pb, ",\"space_id\":");
	td_jw_int(pb, t->space_id);
	td_jw_raw(pb, ",\"token\":");
	/* null when this caller may not see it, or its key left the keyring */
	td_jw_str_or_null(pb, v->value);
	td_jw_raw(pb, ",\"story_ids\":");
	td_jw_int_array(pb, t->story_ids.ids, t->story_ids.n);
	td_jw_raw(pb, ",\"min_cache\":");
	td_jw_int(pb, td_token_effective_min_cache(t, v->space_min_cache));
	td_jw_raw(pb, ",\"release_ids\":");
	td_jw_int_array(pb, t->release_ids.ids, t->release_ids.n);
	/* tokend's additions; clients ignore keys they do not know */
	td_jw_raw(pb, ",\"description\":");
	td_jw_str(pb, t->description);
	td_jw_raw(pb, ",\"icon\":");
	td_jw_str(pb, t->icon);
	td_jw_raw(pb, ",\"status\":");
	td_jw_str(pb, td_status_name(t->status));
	td_jw_raw(pb, ",\"expires_at\":");
	td_jw_time_ms(pb, t->expires_at > 0 ? t->expires_at * 1000 : 0);
	td_jw_raw(pb, ",\"last_used_at\":");
	td_jw_time_ms(pb, t->last_used_ms);
	/* a use limit and what is left of it (as last read) */
	td_jw_raw(pb, ",\"max_uses\":");
	td_jw_int_or_null(pb, t->max_uses);
	td_jw_raw(pb, ",\"remaining_uses\":");
	if (t->max_uses > 0)
		td_jw_int(pb, t->remaining_uses);
	else
		td_jw_raw(pb, "null");
	/* where it may be used from: [] anywhere */
	td_jw_raw(pb, ",\"allowed_cidrs\":");
	td_write_cidrs(pb, &t->allowed_cidrs);
	/* a regenerate's grace window: until when the replaced value works */
	td_jw_raw(pb, ",\"previous_expires_at\":");
	td_jw_time_ms(pb, t->prev_expires_at_ms > td_now_ms() ? t->prev_expires_at_ms : 0);
	td_jw_raw(pb, ",\"created_at\":");
	td_jw_time_ms(pb, t->created_at_ms);
	td_jw_raw(pb, ",\"updated_at\":");
	td_jw_time_ms(pb, t->updated_at_ms);
	td_jw_raw(pb, "}");
	return 0;
}

static int
respond_api_key(struct td_request *req, int status, const struct td_token_view *v)
{
	struct printbuf *pb = printbuf_new();
	int rc = -1;

	if (pb == NULL)
		return -1;
	td_jw_raw(pb, "{\"api_key\":");
	if (api_key_write(pb, v) == 0) {
		td_jw_raw(pb, "}");
		rc = td_respond_json_text(req, status, pb->buf, (size_t)pb->bpos);
	}
	printbuf_free(pb);
	return rc;
}

struct list_ctx {
	struct td_stream out;
	int n;
};

/* Each token is written as its reply is read, and sent on every 64 KiB: a
 * list of any length never exists as one reply tree, one json-c tree, nor
 * one body in memory. */
static int
add_api_key(const struct td_token_view *v, void *arg)
{
	struct list_ctx *c = arg;

	if ((c->n++ > 0 && printbuf_memappend(c->out.buf, ",", 1) < 0) ||
	    api_key_write(c->out.buf, v) != 0 || td_stream_wrote(&c->out) != 0)
		return -1;
	return 0;
}

int
td_api_storyblok_list(struct td_ctx *ctx, struct td_request *req)
{
	struct list_ctx l = { { NULL, NULL, 0 }, 0 };
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_TOKEN_LIST, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_stream_init(&l.out, req) != 0)
		return -1;
	if (printbuf_memappend(l.out.buf, "{\"api_keys\":[", 13) >= 0 &&
	    td_core_token_list(&c, add_api_key, &l) == TD_OK &&
	    printbuf_memappend(l.out.buf, "]}", 2) >= 0)
		return td_stream_finish(&l.out);
	return td_stream_abandon(&l.out) ? 0 : td_api_fail(req, &c);
}

/* The api_key object of the body into a change: core field names, types
 * only; unknown and read-only keys (id, space_id, token) are ignored. */
int
td_storyblok_parse(struct json_object *body, int creating, struct td_token_change *ch,
		   struct td_core_error *err)
{
	static const struct {
		const char *name;
		unsigned bit;
		size_t offset;
		const char *not_a_string;	/* Rails' word for a value of another type */
	} texts[] = {
		{ "name", TD_TF_NAME, offsetof(struct td_token_change, name), NULL },
		{ "description", TD_TF_DESCRIPTION, offsetof(struct td_token_change, description), NULL },
		{ "icon", TD_TF_ICON, offsetof(struct td_token_change, icon), NULL },
		{ "access", TD_TF_ACCESS, offsetof(struct td_token_change, access),
		  "is not included in the list" },
		{ "expires_at", TD_TF_EXPIRES, offsetof(struct td_token_change, expires_at),
		  "must be a time like 2030-01-31T12:00:00Z" },
		{ "status", TD_TF_STATUS, offsetof(struct td_token_change, status),
		  "is not included in the list" },
	};
	struct json_object *obj = NULL, *v;
	size_t i;

	(void)creating;
	td_token_change_init(ch, TD_SHAPE_API_KEY);
	if (body == NULL || !json_object_object_get_ex(body, "api_key", &obj) ||
	    !json_object_is_type(obj, json_type_object))
		return td_field_fail(err, "api_key", "can't be blank");
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!json_object_object_get_ex(obj, texts[i].name, &v))
			continue;
		if (td_field_text(v, texts[i].name,
				  (struct td_text *)((char *)ch + texts[i].offset), err) != 0) {
			if (texts[i].not_a_string != NULL)
				err->message = texts[i].not_a_string;
			return -1;
		}
		ch->set |= texts[i].bit;
	}
	if (json_object_object_get_ex(obj, "branch_id", &v)) {
		if (!json_object_is_type(v, json_type_null) &&
		    td_field_int64(v, "branch_id", &ch->branch_id, err) != 0)
			return -1;
		if (json_object_is_type(v, json_type_null))
			ch->branch_id = 0;
		else if (ch->branch_id == 0)
			return td_field_fail(err, "branch_id", "is out of range");
		ch->set |= TD_TF_BRANCH;
	}
	if (json_object_object_get_ex(obj, "min_cache", &v)) {
		ch->min_cache_null = json_object_is_type(v, json_type_null);
		if (!ch->min_cache_null && td_field_int64(v, "min_cache", &ch->min_cache, err) != 0)
			return -1;
		ch->set |= TD_TF_MIN_CACHE;
	}
	if (json_object_object_get_ex(obj, "max_uses", &v)) {
		ch->max_uses = 0;
		if (!json_object_is_type(v, json_type_null) &&
		    td_field_int64(v, "max_uses", &ch->max_uses, err) != 0)
			return -1;
		if (!json_object_is_type(v, json_type_null) && ch->max_uses == 0)
			return td_field_fail(err, "max_uses", "must be between 1 and 1000000000, or null");
		ch->set |= TD_TF_MAX_USES;
	}
	if (json_object_object_get_ex(obj, "story_ids", &v)) {
		if (td_field_ids(v, "story_ids", &ch->story_ids, err) != 0)
			return -1;
		ch->set |= TD_TF_STORY_IDS;
	}
	if (json_object_object_get_ex(obj, "release_ids", &v)) {
		if (td_field_ids(v, "release_ids", &ch->release_ids, err) != 0)
			return -1;
		ch->set |= TD_TF_RELEASE_IDS;
	}
	if (json_object_object_get_ex(obj, "allowed_cidrs", &v)) {
		if (td_field_cidrs(v, "allowed_cidrs", &ch->allowed_cidrs, err) != 0)
			return -1;
		ch->set |= TD_TF_ALLOWED_CIDRS;
	}
	return 0;
}

int
td_api_storyblok_create(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_change *ch = &ctx->change;
	struct td_token_view v;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_TOKEN_CREATE, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_storyblok_parse(req->json, 1, ch, &c.err) != 0 ||
	    td_core_token_create(&c, ch, &v) != TD_OK)
		return td_api_fail(req, &c);
	return respond_api_key(req, 201, &v);
}

int
td_api_storyblok_get(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_TOKEN_GET, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_core_token_get(&c, req->match.ids[1], &v) != TD_OK)
		return td_api_fail(req, &c);
	return respond_api_key(req, 200, &v);
}

int
td_api_storyblok_update(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_change *ch = &ctx->change;
	struct td_token_view v;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_TOKEN_UPDATE, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_storyblok_parse(req->json, 0, ch, &c.err) != 0 ||
	    td_core_token_update(&c, req->match.ids[1], ch, &v) != TD_OK)
		return td_api_fail(req, &c);
	return respond_api_key(req, 200, &v);
}

int
td_api_storyblok_delete(struct td_ctx *ctx, struct td_request *req)
{
	struct td_token_view v;
	struct td_call c;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_TOKEN_DELETE, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	if (td_core_token_delete(&c, req->match.ids[1], 0, &v) != TD_OK)
		return td_api_fail(req, &c);
	return respond_api_key(req, 200, &v);
}

int
td_api_storyblok_regenerate(struct td_ctx *ctx, struct td_request *req)
{
	struct json_object *grace = NULL;
	struct td_token_view v;
	struct td_call c;
	int64_t seconds = 0;

	if (td_api_begin(ctx, req, &c, RESOURCE, TD_OP_TOKEN_REGENERATE, TD_SPACE_PATH,
			 req->match.ids[0]) != 0)
		return 0;
	/* an optional body: {"grace_seconds": N}, the old value's window */
	if (req->json != NULL && !json_object_is_type(req->json, json_type_object))
		return td_api_fail_parse(req, &(struct td_core_error){
			TD_ERR_INVALID, "grace_seconds", "the body must be an object" });
	if (req->json != NULL && json_object_object_get_ex(req->json, "grace_seconds", &grace) &&
	    !json_object_is_type(grace, json_type_null) &&
	    td_field_int64(grace, "grace_seconds", &seconds, &c.err) != 0)
		return td_api_fail(req, &c);
	if (td_core_token_regenerate(&c, req->match.ids[1], seconds, &v) != TD_OK)
		return td_api_fail(req, &c);
	return respond_api_key(req, 200, &v);
}
