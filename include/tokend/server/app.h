/*
 * What a worker serves: the context handlers run in, the route table, and
 * the per-request pipeline (parse, route, read body, handle, log).
 */
#ifndef TOKEND_APP_H
#define TOKEND_APP_H

#include <stddef.h>

#include "tokend/server/config.h"
#include "tokend/server/http.h"
#include "tokend/core/pat.h"
#include "tokend/core/sign.h"
#include "tokend/core/space.h"
#include "tokend/core/token.h"
#include "tokend/server/router.h"
#include "tokend/store/store.h"

struct td_ctx {
	const struct td_config *cfg;
	struct td_store *store;
	const struct td_keyring *keyring;
	/* per-worker scratch records, so handlers need no large stack frames */
	struct td_token scratch_token;
	struct td_pat scratch_pat;
	struct td_space scratch_space;
	struct td_target verify_target;	/* the original URI of a verify */
	struct td_verify_cache *verify_cache;	/* NULL: off (verify_cache_entries = 0) */
};

extern const struct td_route td_routes[];
extern const size_t td_routes_count;

/* Seeds the request-id generator; call once per worker process. */
int td_dispatch_init(void);

/* Serves the request libfcgi accepted into fcgx; always answers. */
void td_dispatch(struct td_ctx *ctx, struct td_request *req, FCGX_Request *fcgx);

/* Releases a request's buffers (at worker exit). */
void td_request_release(struct td_request *req);

#endif
