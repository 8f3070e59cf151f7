/* Shared inside the store module (store*.c) only: the connection and the
 * Lua-script runner. Nothing outside the store includes this. */
#ifndef TOKEND_STORE_INTERNAL_H
#define TOKEND_STORE_INTERNAL_H

#include <hiredis/hiredis.h>

#include "tokend/store.h"

enum store_script {
	SCRIPT_CREATE_IF_ABSENT,
	SCRIPT_PUT_EXISTING,
	SCRIPT_SPACE_INDEX_ADD,
	SCRIPT_SPACE_DELETE,
	SCRIPT_TOKEN_CREATE,
	SCRIPT_TOKEN_GET,
	SCRIPT_RECORD_DELETE,
	SCRIPT_TOKEN_LIST,
	SCRIPT_PAT_CREATE,
	SCRIPT_RECORD_LIST,
	SCRIPT_RATE_CHECK,
	SCRIPT__MAX
};

#define STORE_ARGS_MAX 64

struct td_store {
	redisContext *redis;
	struct td_redis_url url;
	int connect_timeout_ms;
	int command_timeout_ms;
	int retry_interval_ms;
	long long next_attempt_ms;	/* monotonic; no reconnect before this */
	int reported_down;		/* log the outage once, not per request */
};

/* Runs a script by SHA, falling back to EVAL (which also caches it again)
 * when Redis answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 * Returns NULL when Redis is unreachable; an error reply is returned as is. */
redisReply *store_script(struct td_store *store, enum store_script script, int nkeys,
			 int argc, const char **argv, const size_t *argvlen);

/* One plain command, NULL when Redis is unreachable. */
redisReply *store_command(struct td_store *store, const char *fmt, ...);

#endif
