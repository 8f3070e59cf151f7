/*
 * The store's Lua scripts: every change touching more than one key is one of
 * these, so it is atomic. Keys of one space share the hash tag {s:<id>},
 * PAT keys share {pats}, the space directory shares {spaces}: each script
 * touches one slot, so the layout runs unchanged on Redis Cluster.
 * Ids are compared as decimal strings (Lua numbers are doubles and would
 * round int64 ids above 2^53). A script must never touch a key outside the
 * slot of its KEYS, nor take an id it did not get as a string.
 */
#ifndef TOKEND_STORE_SCRIPTS_H
#define TOKEND_STORE_SCRIPTS_H

#include "internal.h"

static const char *const store_script_source[SCRIPT__MAX] = {
	/* KEYS[1] hash; ARGV field/value pairs. 1 created, 0 existed. */
	[SCRIPT_CREATE_IF_ABSENT] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV))\n"
	"return 1\n",

	/* KEYS[1] hash; ARGV[1] the revision the writer read, ARGV[2] = n,
	 * ARGV[3..n+2] pairs to set, the rest fields to delete. Compare-and-set:
	 * 1 written (revision counted up), -1 if the record changed since it
	 * was read, 0 if it is gone or soft-deleted (never resurrected). */
	[SCRIPT_PUT_EXISTING] =
	"if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 's') == 'D' then\n"
	"  return 0\n"
	"end\n"
	"if (redis.call('HGET', KEYS[1], 'rv') or '0') ~= ARGV[1] then return -1 end\n"
	"local mu = redis.call('HGET', KEYS[1], 'mu')\n"
	"local n = tonumber(ARGV[2])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 3, n + 2))\n"
	"if #ARGV > n + 2 then redis.call('HDEL', KEYS[1], unpack(ARGV, n + 3)) end\n"
	/* a use limit set or changed: its uses start again ("ru" is Redis's) */
	"local mu2 = redis.call('HGET', KEYS[1], 'mu')\n"
	"if mu2 ~= mu then\n"
	"  if mu2 then redis.call('HSET', KEYS[1], 'ru', mu2) else redis.call('HDEL', KEYS[1], 'ru') end\n"
	"end\n"
	"redis.call('HINCRBY', KEYS[1], 'rv', 1)\n"
	"return 1\n",

	/* KEYS[1] {spaces}:index, KEYS[2] {spaces}:seq; ARGV[1] space id,
	 * ARGV[2] the largest gap the counter follows. Lists the space; the id
	 * counter moves up to a caller-chosen id just above it (an import of
	 * dense ids), not to one far above (which the counter would otherwise
	 * follow to the top of the id range: automatic ids step over it when
	 * they meet it). Space ids are <= 2^53 - 1, exact as Lua numbers. */
	[SCRIPT_SPACE_INDEX_ADD] =
	"redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])\n"
	"local c = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
	"local id = tonumber(ARGV[1])\n"
	"if id > c and id - c <= tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[1]) end\n"
	"return 1\n",

	/* KEYS[1] space hash, KEYS[2] its token index, KEYS[3] its activity
	 * log; ARGV[1] token key prefix, ARGV[2] minted-set key prefix.
	 * Deletes the space, all its tokens and the sets of what they minted;
	 * returns the space or nil. */
	[SCRIPT_SPACE_DELETE] =
	"local sp = redis.call('HGETALL', KEYS[1])\n"
	"if #sp == 0 then return false end\n"
	"for _, index in ipairs({KEYS[2], KEYS[4]}) do\n"
	"  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do\n"
	"    redis.call('DEL', ARGV[1] .. id, ARGV[2] .. id)\n"
	"  end\n"
	"end\n"
	"redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])\n"
	"return sp\n",

	/* A SoftwareOne soft delete: SCRIPT_PUT_EXISTING's compare-and-set
	 * write of the record (status D), and its id moved from the space's
	 * index (which counts against limits.tokens and lists read) to the
	 * index of deleted tokens (kept for audit, deleted with the space).
	 * KEYS[1] token hash, KEYS[2] index, KEYS[3] deleted index; ARGV[1]
	 * revision read, ARGV[2] id, ARGV[3] = n, then n strings of pairs, then
	 * fields to delete. 1, -1 (changed since read) or 0 (gone). */
	[SCRIPT_TOKEN_SOFT_DELETE] =
	"if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 's') == 'D' then\n"
	"  return 0\n"
	"end\n"
	"if (redis.call('HGET', KEYS[1], 'rv') or '0') ~= ARGV[1] then return -1 end\n"
	"local n = tonumber(ARGV[3])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 4, n + 3))\n"
	"if #ARGV > n + 3 then redis.call('HDEL', KEYS[1], unpack(ARGV, n + 4)) end\n"
	"redis.call('HINCRBY', KEYS[1], 'rv', 1)\n"
	"redis.call('ZREM', KEYS[2], ARGV[2])\n"
	"redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])\n"
	"return 1\n",

	/* KEYS[1] space hash, KEYS[2] token index, KEYS[3] token hash,
	 * KEYS[4] activity stream; ARGV[1] token id, ARGV[2] actor ('' = no
	 * activity entry), ARGV[3] action, ARGV[4] stream cap, ARGV[5] the
	 * default cap on the space's tokens (its "lt" overrides), then
	 * field/value pairs. Returns the space's min_cache, false when the space
	 * does not exist, 0 when the id is taken (never merged into another
	 * token), -1 when the space holds its most tokens. */
	[SCRIPT_TOKEN_CREATE] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
	"if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end\n"
	"local cap = tonumber(redis.call('HGET', KEYS[1], 'lt') or ARGV[5])\n"
	"if redis.call('ZCARD', KEYS[2]) >= cap then return -1 end\n"
	"redis.call('HSET', KEYS[3], unpack(ARGV, 6))\n"
	"local mu = redis.call('HGET', KEYS[3], 'mu')\n"	/* a use limit: all its uses */
	"if mu then redis.call('HSET', KEYS[3], 'ru', mu) end\n"
	"redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])\n"
	"if ARGV[2] ~= '' then\n"	/* the activity entry, in the same round trip */
	"  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'a', ARGV[2], 'x', ARGV[3],"
	" 'r', ARGV[1])\n"
	"end\n"
	"return redis.call('HGET', KEYS[1], 'mc') or '0'\n",

	/* KEYS[1] record hash, KEYS[2] its index; ARGV[1] id. Returns the
	 * deleted fields, or false (also for a soft-deleted token, s = D). */
	[SCRIPT_RECORD_DELETE] =
	"local t = redis.call('HGETALL', KEYS[1])\n"
	"if #t == 0 or redis.call('HGET', KEYS[1], 's') == 'D' then return false end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"return t\n",

	/* KEYS[1] {pats}:p:<id>, KEYS[2] {pats}:index, KEYS[3] {pats}:o:<maker
	 * id>, the set of the live PATs its maker made; ARGV[1] the id (from
	 * {pats}:seq), ARGV[2] the most that set may hold (0: no maker, no
	 * bound), then field/value pairs. 1 created, 0 the id is taken, -1 the
	 * maker has made its most. */
	[SCRIPT_PAT_CREATE] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"if ARGV[2] ~= '0' then\n"
	"  if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[2]) then return -1 end\n"
	"  redis.call('SADD', KEYS[3], ARGV[1])\n"
	"end\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 3))\n"
	"redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])\n"
	"return 1\n",

	/* KEYS[1] {pats}:p:<id>, KEYS[2] {pats}:index; ARGV[1] the id, ARGV[2]
	 * the prefix of makers' sets ({pats}:o:). Deletes the PAT and takes it
	 * off its maker's set (same slot); returns its fields or false. */
	[SCRIPT_PAT_DELETE] =
	"local t = redis.call('HGETALL', KEYS[1])\n"
	"if #t == 0 then return false end\n"
	"local mb = redis.call('HGET', KEYS[1], 'mb')\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"if mb and string.sub(mb, 1, 2) == 'p:' then\n"
	"  redis.call('SREM', ARGV[2] .. string.sub(mb, 3), ARGV[1])\n"
	"end\n"
	"return t\n",

	/* KEYS[1] an index; ARGV[1] record key prefix. {{id, fields}...},
	 * skipping ids whose record is gone. */
	[SCRIPT_RECORD_LIST] =
	"#!lua flags=no-writes\n"
	"local out = {}\n"
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
	"  local r = redis.call('HGETALL', ARGV[1] .. id)\n"
	"  if #r > 0 then out[#out + 1] = {id, r} end\n"
	"end\n"
	"return out\n",

	/* GCRA (generic cell rate algorithm), one key per caller and space.
	 * KEYS[1] the caller's theoretical arrival time, KEYS[2] the space hash
	 * (its field ARGV[3] overrides the default limit); ARGV[1] default
	 * limit, ARGV[2] period (ms). A burst of `limit` calls is allowed,
	 * refilled evenly over the period. {allowed 0|1, limit, remaining,
	 * reset ms, retry-after ms}. */
	[SCRIPT_RATE_CHECK] =
	"local limit = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or ARGV[1])\n"
	"if limit <= 0 then limit = tonumber(ARGV[1]) end\n"
	"local period = tonumber(ARGV[2])\n"
	"local now = redis.call('TIME')\n"
	"local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)\n"
	"local interval = period / limit\n"
	"local tat = tonumber(redis.call('GET', KEYS[1]) or t)\n"
	"if tat < t then tat = t end\n"
	"local new_tat = tat + interval\n"
	"local allow_at = new_tat - period\n"
	"if t < allow_at then\n"
	"  return {0, limit, 0, math.ceil(tat - t), math.ceil(allow_at - t)}\n"
	"end\n"
	"redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - t) + 1)\n"
	"local remaining = math.floor((t - (new_tat - period)) / interval)\n"
	"return {1, limit, remaining, math.ceil(new_tat - t), 0}\n",

	/* KEYS[1] a token or PAT hash; ARGV[1] a time (ms). Raises its "lu"
	 * (last use) to it; never creates a hash that is gone. */
	[SCRIPT_LAST_USED] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"local cur = redis.call('HGET', KEYS[1], 'lu') or '0'\n"
	"if #ARGV[1] > #cur or (#ARGV[1] == #cur and ARGV[1] > cur) then\n"
	"  redis.call('HSET', KEYS[1], 'lu', ARGV[1])\n"
	"end\n"
	"return 1\n",

	/* KEYS[1] a token hash. Takes one of its uses: the uses left after it,
	 * -1 when none is left, -2 when the token is gone. */
	[SCRIPT_TAKE_USE] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end\n"
	"local r = tonumber(redis.call('HGET', KEYS[1], 'ru') or '0')\n"
	"if r <= 0 then return -1 end\n"
	"redis.call('HINCRBY', KEYS[1], 'ru', -1)\n"
	"return r - 1\n",

	/* KEYS[1] a minted-credential set; ARGV[1] the most members listed.
	 * The members, or their count when there are more: a set past the
	 * bound is never sent whole. */
	[SCRIPT_MINTED_LIST] =
	"#!lua flags=no-writes\n"
	"local n = redis.call('SCARD', KEYS[1])\n"
	"if n > tonumber(ARGV[1]) then return n end\n"
	"return redis.call('SMEMBERS', KEYS[1])\n",
};

#endif
