/*
 * Error bodies per dialect. The core raises one kind of error (status, a
 * stable code, an optional field, a message); each API renders it the way
 * its official clients expect:
 *   admin        {"error": "...", "code": "...", "status": N, "request_id": "..."}
 *   storyblok    404 ["This record could not be found"], 422 {"field": ["msg"]},
 *                else {"error": "..."} (the shapes storyblok-js-client parses)
 *   datocms      {"data": [{"id", "type": "api_error", "attributes": {"code", "doc_url", "details"}}]}
 *   softwareone  RFC 9457 problem details, ASP.NET flavour (type, title, status, detail, traceId)
 *   verify       like admin (nginx auth_request only reads the status)
 */
#ifndef TOKEND_ERROR_H
#define TOKEND_ERROR_H

#include <json-c/json.h>

#include "tokend/server/http.h"

/* The dialect hooks table (struct td_dialect_hooks, server/http.h) is
 * defined in errors.c; td_error_render renders through it. */
struct json_object *td_error_render(enum td_dialect dialect, const struct td_error *e,
				    const char *request_id);

#endif
