/*
 * What a worker serves: the route table and
 * the per-request pipeline (parse, route, read body, handle, log).
 */
#ifndef TOKEND_APP_H
#define TOKEND_APP_H

#include <stddef.h>

#include "tokend/core/core.h"
#include "tokend/server/config.h"
#include "tokend/server/http.h"
#include "tokend/server/router.h"

#include "tokend/server/worker.h"

extern const struct td_route td_routes[];
extern const size_t td_routes_count;
/* The verify pool's listener: the verify path, health and version only. */
extern const struct td_route td_verify_routes[];
extern const size_t td_verify_routes_count;

/* Seeds the request-id generator; call once per worker process. */
int td_dispatch_init(void);

/* Serves the request libfcgi accepted into fcgx with the routes of the
 * worker's pool; always answers. */
void td_dispatch(struct td_ctx *ctx, struct td_request *req, FCGX_Request *fcgx,
		 enum td_pool_kind pool);

/* Releases a request's buffers (at worker exit). */
void td_request_release(struct td_request *req);

#endif
