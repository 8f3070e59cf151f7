/*
 * What the DatoCMS view's files share (datocms.c: access tokens,
 * dato_roles.c: roles): its request headers before the core call, its
 * error and success documents, its ids.
 */
#ifndef TOKEND_API_DATO_H
#define TOKEND_API_DATO_H

#include <json-c/json.h>

#include "tokend/api/handlers.h"

/* DatoCMS's request headers, then the core call: API version, environment,
 * Accept, then who, which project, may it, rate, does the project exist.
 * 0, or -1 with the error answered. */
int td_dato_begin(struct td_ctx *ctx, struct td_request *req, struct td_call *c,
		  const char *resource, enum td_op op);

/* An api_error document (always returns 0: the handler is done). */
int td_dato_error(struct td_request *req, int status, const char *code, const char *field,
		  const char *message);

/* {"data": data} with status. */
int td_dato_respond(struct td_request *req, int status, struct json_object *data);

/* A JSON:API document's head, {"data": {"type", "id"?, "attributes"?}}:
 * type must be type (else INVALID_TYPE, type_message), an id must be
 * path_id's one spelling (when path_id > 0), attributes an object. *data,
 * and *attrs (NULL when absent). 0, or -1 with err, and *code for an error
 * of the document's shape (INVALID_FORMAT, INVALID_TYPE, ...). */
int td_dato_document(struct json_object *body, const char *type, const char *type_message,
		     int64_t path_id, struct json_object **data, struct json_object **attrs,
		     struct td_core_error *err, const char **code);

/* Answers a document its parser refused: a shape error with its DatoCMS
 * code (code set), else c->err through the dialect's table. Returns -1. */
int td_dato_refuse_document(struct td_request *req, struct td_call *c, const char *code);

/* The record id in the path ({*id}): one spelling (no sign, no leading
 * zero, at most TD_ID_MAX), else 0, which no record has (404). */
int64_t td_dato_path_id(const struct td_request *req);

/* An id as DatoCMS writes them: a string of digits. */
struct json_object *td_dato_id(int64_t id);

#endif
