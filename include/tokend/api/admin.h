/* tokend's own endpoints: health, version and the OpenAPI document. */
#ifndef TOKEND_API_ADMIN_H
#define TOKEND_API_ADMIN_H

#include "tokend/server/app.h"

#define TD_VERSION "0.1.0"

int td_api_health(struct td_ctx *ctx, struct td_request *req);
int td_api_version(struct td_ctx *ctx, struct td_request *req);
int td_api_openapi(struct td_ctx *ctx, struct td_request *req);

/* docs/openapi.json, byte for byte: build/gen/openapi_json.c, which the
 * Makefile generates from it, defines these. */
extern const unsigned char td_openapi_json[];
extern const size_t td_openapi_json_len;

#endif
