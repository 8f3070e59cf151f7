/* tokend's own endpoints: health and version. */
#ifndef TOKEND_API_ADMIN_H
#define TOKEND_API_ADMIN_H

#include "tokend/server/app.h"

#define TD_VERSION "0.1.0"

int td_api_health(struct td_ctx *ctx, struct td_request *req);
int td_api_version(struct td_ctx *ctx, struct td_request *req);

#endif
