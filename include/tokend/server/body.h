/*
 * Request bodies: tokend speaks JSON only. A non-empty body must carry a
 * JSON media type (else 415) and parse as strict, UTF-8-valid JSON no deeper
 * than json_max_depth (else 400). An empty body is no body, whatever its
 * Content-Type says (clients send one on bodyless requests).
 */
#ifndef TOKEND_BODY_H
#define TOKEND_BODY_H

#include <stddef.h>

#include <json-c/json.h>

/* 1 for application/json, application/vnd.api+json and other +json types,
 * parameters (";charset=utf-8") allowed, case-insensitive. */
int td_media_type_is_json(const char *content_type);

/* Parses exactly len bytes; NULL on any error, with a reason in err. */
struct json_object *td_json_parse(const char *text, size_t len, int max_depth,
				  char *err, size_t errlen);

#endif
