/* Helpers the API handlers share: store results and validation errors as
 * responses, wrapped request bodies, the routes' handlers. */
#ifndef TOKEND_API_H
#define TOKEND_API_H

#include "tokend/server/app.h"
#include "tokend/core/auth.h"

/* NOT_FOUND → 404, DOWN → 503. Always returns 0 (the handler is done). */
int td_respond_store(struct td_request *req, int store_rc);
int td_respond_invalid(struct td_request *req, const struct td_field_error *err);

/* The object under key in the JSON body ({"api_key": {...}}), or NULL. */
struct json_object *td_body_member(const struct td_request *req, const char *key);

/* The token string, re-derived from the record and the key; null for a
 * token whose key was dropped from the keyring (it is dead). */
/* The token string of t into out (TD_TOKEN_STR_MAX); -1 if its key is gone. */
int td_token_string(const struct td_ctx *ctx, const struct td_token *t, char *out, size_t size);
struct json_object *td_token_string_json(const struct td_ctx *ctx, const struct td_token *t);

/* Appends who did what to which record to the space's activity log. */
void td_activity(struct td_ctx *ctx, int64_t space_id, const char *actor, const char *action,
		 int64_t resource_id);

/* ISO 8601 string or null. */
struct json_object *td_json_time_ms(int64_t ms);
struct json_object *td_json_time_s(int64_t secs);

int td_api_spaces_list(struct td_ctx *ctx, struct td_request *req);
int td_api_spaces_create(struct td_ctx *ctx, struct td_request *req);
int td_api_space_get(struct td_ctx *ctx, struct td_request *req);
int td_api_space_update(struct td_ctx *ctx, struct td_request *req);
int td_api_space_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_space_activities(struct td_ctx *ctx, struct td_request *req);

int td_api_storyblok_list(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_create(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_get(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_update(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_storyblok_regenerate(struct td_ctx *ctx, struct td_request *req);

/* Stores p (hash of a fresh secret, newest key) and writes its token string:
 * shared by the API and `tokend pat create`. */
int td_pat_issue(struct td_store *store, const struct td_keyring *kr, struct td_pat *p,
		 char *token, size_t size);

int td_api_pats_list(struct td_ctx *ctx, struct td_request *req);
int td_api_pats_create(struct td_ctx *ctx, struct td_request *req);
int td_api_pat_get(struct td_ctx *ctx, struct td_request *req);
int td_api_pat_delete(struct td_ctx *ctx, struct td_request *req);

int td_api_dato_list(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_find(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_create(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_update(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_regenerate(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_destroy(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_roles(struct td_ctx *ctx, struct td_request *req);
int td_api_dato_role(struct td_ctx *ctx, struct td_request *req);

int td_api_swo_list(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_get(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_create(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_update(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_delete(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_enable(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_disable(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_modules(struct td_ctx *ctx, struct td_request *req);
int td_api_swo_module(struct td_ctx *ctx, struct td_request *req);

int td_api_verify_get(struct td_ctx *ctx, struct td_request *req);
int td_api_verify_post(struct td_ctx *ctx, struct td_request *req);
/* The FastCGI Authorizer role, dispatched on FCGI_ROLE, not on a route. */
int td_api_authorize(struct td_ctx *ctx, struct td_request *req);

#endif
