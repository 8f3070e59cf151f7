/*
 * The store's Lua scripts: every change touching more than one key is one of
 * these, so it is atomic. Keys of one space share the hash tag {s:<id>},
 * PAT keys share {pats}, the space directory shares {spaces}: each script
 * touches one slot, so the layout runs unchanged on Redis Cluster.
 * Ids are compared as decimal strings (Lua numbers are doubles and would
 * round int64 ids above 2^53). A script must never touch a key outside the
 * slot of its KEYS (one exception, said at SCRIPT_TOKEN_CREATE), nor take
 * an id it did not get as a string.
 */
#ifndef TOKEND_STORE_SCRIPTS_H
#define TOKEND_STORE_SCRIPTS_H

#include "internal.h"
#include "tokend/core/role.h"
#include "tokend/limits.h"

/*
 * A role a token holds cannot be deleted. Rather than scan the space's
 * tokens when a role is deleted (up to limits.tokens of them, in one
 * script that would block Redis), every script that writes a token keeps a
 * count per role in the space's {s:<id>}:role_use hash, in the same atomic
 * step as the token write, and refuses a role that is gone (-2). Deleting a
 * role checks its count in its own script. So "in use" and "deleted" can
 * never both win: whichever script runs first, the other sees it. Built-in
 * roles are never deleted and not counted.
 */
_Static_assert(TD_ROLE_BUILTIN_MAX == 2, "the scripts count roles above 2");
/* TD_ID_MAX as the scripts compare it (a Lua number: exact to 2^53) */
#define TD_ID_MAX_LUA "9007199254740991"
_Static_assert(TD_ID_MAX == 9007199254740991LL, "TD_ID_MAX_LUA says TD_ID_MAX");

#define LUA_CUSTOM_ROLE \
	"local function custom(r) return type(r) == 'string' and (#r > 1 or r > '2') end\n"

/* A field of a hash read whole ({field, value, ...}: HGETALL's reply), and a
 * space's bound: its own when set above 0, else the default. */
#define LUA_FIELD \
	"local function field(h, name)\n" \
	"  for i = 1, #h, 2 do if h[i] == name then return h[i + 1] end end\n" \
	"end\n" \
	"local function positive(v, default)\n" \
	"  local n = tonumber(v or '')\n" \
	"  if n == nil or n <= 0 then return tonumber(default) end\n" \
	"  return n\n" \
	"end\n"

/*
 * A call's rate limiters, GCRA (generic cell rate algorithm): one key per
 * caller and space holding its theoretical arrival time; a burst of
 * `limit` calls is allowed, refilled evenly over the period.
 * limiters(sp, k, a): KEYS[k..] the limiters' keys; ARGV[a] their count,
 * ARGV[a + 1] the period (ms), then for each its default limit and the
 * field of the space's hash sp that overrides it. A limiter is taken only
 * when the ones before it passed. Returns {{allowed 0|1, limit,
 * remaining, reset ms, retry-after ms} for each taken}, and whether all
 * passed. The time is Redis's (TIME): one clock for every worker.
 */
#define LUA_LIMITERS \
	"local function limiters(sp, k, a)\n" \
	"  local n, out = tonumber(ARGV[a]), {}\n" \
	"  if n == 0 then return out, true end\n" \
	"  local period = tonumber(ARGV[a + 1])\n" \
	"  local now = redis.call('TIME')\n" \
	"  local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)\n" \
	"  for i = 0, n - 1 do\n" \
	"    local limit = positive(field(sp, ARGV[a + 3 + 2 * i]), ARGV[a + 2 + 2 * i])\n" \
	"    local interval = period / limit\n" \
	"    local tat = tonumber(redis.call('GET', KEYS[k + i]) or t)\n" \
	"    if tat < t then tat = t end\n" \
	"    local new_tat = tat + interval\n" \
	"    local allow_at = new_tat - period\n" \
	"    if t < allow_at then\n" \
	"      out[#out + 1] = {0, limit, 0, math.ceil(tat - t), math.ceil(allow_at - t)}\n" \
	"      return out, false\n" \
	"    end\n" \
	"    redis.call('SET', KEYS[k + i], tostring(new_tat), 'PX', math.ceil(new_tat - t) + 1)\n" \
	"    out[#out + 1] = {1, limit, math.floor((t - (new_tat - period)) / interval),\n" \
	"                     math.ceil(new_tat - t), 0}\n" \
	"  end\n" \
	"  return out, true\n" \
	"end\n"

/*
 * A record's digest, as record_digest (records.c) computes it from the same
 * HGETALL: SHA-1 over each field and value as "<bytes>:<bytes of it>", in
 * the order Redis keeps them, but for the fields Redis alone writes (a
 * token's last use "lu" and uses left "ru": codec.c's STORE_OWNED, never
 * written back from a copy). Equal digests: the same record, byte for
 * byte, in all a writer writes.
 */
#define LUA_DIGEST \
	"local function digest(h)\n" \
	"  local parts = {}\n" \
	"  for i = 1, #h, 2 do\n" \
	"    if h[i] ~= 'lu' and h[i] ~= 'ru' then\n" \
	"      parts[#parts + 1] = #h[i] .. ':' .. h[i] .. #h[i + 1] .. ':' .. h[i + 1]\n" \
	"    end\n" \
	"  end\n" \
	"  return redis.sha1hex(table.concat(parts))\n" \
	"end\n"

/*
 * A compare-and-set of an existing record: put(key, use, rkey, log, a,
 * bytes, bound) with, for a token, use the space's role-use hash, rkey the
 * hash of the role it will hold and log the space's activity stream (nil
 * for other records); bytes and bound (nil: not checked) the record's size
 * and the most it may take. ARGV[a] what the writer read: its revision, or
 * "#" and its digest (LUA_DIGEST: a copy kept since, compared whole),
 * ARGV[a + 1] the role it will hold ("0" none), ARGV[a + 2] the actor (""
 * no activity entry), ARGV[a + 3] the action, ARGV[a + 4] the stream's
 * length, ARGV[a + 5] the record's id, ARGV[a + 6] = n, then n pairs to
 * set, the rest fields to delete.
 * 1 written (revision counted up), -1 if the record changed since it was
 * read, 0 if it is gone or soft-deleted (never resurrected), -2 if the role
 * it would take is gone, -3 if it would be too large (judged only on the
 * record it was read from: after the compare). One HGETALL reads what the
 * checks need (LUA_FIELD).
 */
#define LUA_PUT \
	"local function put(key, use, rkey, log, a, bytes, bound)\n" \
	"  local h = redis.call('HGETALL', key)\n" \
	"  if #h == 0 or field(h, 's') == 'D' then return 0 end\n" \
	"  if string.sub(ARGV[a], 1, 1) == '#' then\n" \
	"    if digest(h) ~= string.sub(ARGV[a], 2) then return -1 end\n" \
	"  elseif (field(h, 'rv') or '0') ~= ARGV[a] then\n" \
	"    return -1\n" \
	"  end\n" \
	"  if bytes ~= nil and bytes > bound then return -3 end\n" \
	"  local ro = field(h, 'ro') or '0'\n" \
	"  local roles = rkey ~= nil and ARGV[a + 1] ~= ro\n" \
	"  if roles and custom(ARGV[a + 1]) and redis.call('EXISTS', rkey) == 0 then return -2 end\n" \
	"  local mu = field(h, 'mu')\n" \
	"  local n = tonumber(ARGV[a + 6])\n" \
	"  redis.call('HSET', key, unpack(ARGV, a + 7, a + 6 + n))\n" \
	"  if #ARGV > a + 6 + n then redis.call('HDEL', key, unpack(ARGV, a + 7 + n)) end\n" \
	/* a use limit set or changed: its uses start again ("ru" is Redis's) */ \
	"  local mu2 = redis.call('HGET', key, 'mu')\n" \
	"  if mu2 ~= mu then\n" \
	"    if mu2 then redis.call('HSET', key, 'ru', mu2) else redis.call('HDEL', key, 'ru') end\n" \
	"  end\n" \
	"  redis.call('HINCRBY', key, 'rv', 1)\n" \
	"  if roles and custom(ro) then redis.call('HINCRBY', use, ro, -1) end\n" \
	"  if roles and custom(ARGV[a + 1]) then redis.call('HINCRBY', use, ARGV[a + 1], 1) end\n" \
	/* the activity entry, same round trip; pcall: the trail is best \
	 * effort, the write above stands either way */ \
	"  if log ~= nil and ARGV[a + 2] ~= '' then\n" \
	"    redis.pcall('XADD', log, 'MAXLEN', '~', ARGV[a + 4], '*', 'a', ARGV[a + 2],\n" \
	"                'x', ARGV[a + 3], 'r', ARGV[a + 5])\n" \
	"  end\n" \
	"  return 1\n" \
	"end\n"

static const char *const store_script_source[SCRIPT__MAX] = {
	/* KEYS[1] hash; ARGV field/value pairs. 1 created, 0 existed. */
	[SCRIPT_CREATE_IF_ABSENT] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV))\n"
	"return 1\n",

	/* KEYS[1] hash; for a token also KEYS[2] the space's role-use hash,
	 * KEYS[3] the hash of the role it will hold and KEYS[4] the space's
	 * activity stream; ARGV as LUA_PUT's from 1. */
	[SCRIPT_PUT_EXISTING] =
	LUA_CUSTOM_ROLE
	LUA_FIELD
	LUA_DIGEST
	LUA_PUT
	"return put(KEYS[1], KEYS[2], KEYS[3], KEYS[4], 1)\n",

	/* A token's change with its call's start in the same round trip
	 * (call.c): KEYS[1] the space hash, KEYS[2] the token hash, KEYS[3]
	 * the space's role-use hash, KEYS[4] the hash of the role it will
	 * hold, KEYS[5] the space's activity stream, KEYS[6..] the call's rate
	 * limiters (none when the call took its start already); ARGV[1] the
	 * record's bytes (0: not checked), ARGV[2] the default bound on them
	 * (the space's "lb" overrides), ARGV[3..] the limiters (LUA_LIMITERS),
	 * then LUA_PUT's arguments. {the limiters' answers, the space's
	 * HGETALL, result, the token's HGETALL once written (else empty)}:
	 * LUA_PUT's, or -4 no such space, -5 a limiter refused. */
	[SCRIPT_TOKEN_PUT_STARTED] =
	LUA_CUSTOM_ROLE
	LUA_FIELD
	LUA_LIMITERS
	LUA_DIGEST
	LUA_PUT
	"local sp = redis.call('HGETALL', KEYS[1])\n"
	"local rates, ok = limiters(sp, 6, 3)\n"
	"if not ok then return {rates, sp, -5} end\n"
	"if #sp == 0 then return {rates, sp, -4} end\n"
	"local bytes = tonumber(ARGV[1])\n"
	"if bytes == 0 then bytes = nil end\n"
	"local r = put(KEYS[2], KEYS[3], KEYS[4], KEYS[5], 5 + 2 * tonumber(ARGV[3]), bytes,\n"
	"              positive(field(sp, 'lb'), ARGV[2]))\n"
	"return {rates, sp, r, r == 1 and redis.call('HGETALL', KEYS[2]) or {}}\n",

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
	 * log, KEYS[4] its deleted-token index, KEYS[5] its role index,
	 * KEYS[6] role-use hash, KEYS[7] role id counter; ARGV[1] token key
	 * prefix, ARGV[2] minted-set key prefix, ARGV[3] role key prefix.
	 * Deletes the space, all its tokens, the sets of what they minted and
	 * its roles; returns the space or nil. */
	[SCRIPT_SPACE_DELETE] =
	"local sp = redis.call('HGETALL', KEYS[1])\n"
	"if #sp == 0 then return false end\n"
	"for _, index in ipairs({KEYS[2], KEYS[4]}) do\n"
	"  for _, id in ipairs(redis.call('ZRANGE', index, 0, -1)) do\n"
	"    redis.call('DEL', ARGV[1] .. id, ARGV[2] .. id)\n"
	"  end\n"
	"end\n"
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do\n"
	"  redis.call('DEL', ARGV[3] .. id)\n"
	"end\n"
	"redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])\n"
	"return sp\n",

	/* A SoftwareOne soft delete: SCRIPT_PUT_EXISTING's compare-and-set
	 * write of the record (status D), and its id moved from the space's
	 * index (which counts against limits.tokens and lists read) to the
	 * index of deleted tokens (kept for audit, deleted with the space).
	 * KEYS[1] token hash, KEYS[2] index, KEYS[3] deleted index; ARGV[1]
	 * revision read, ARGV[2] id, ARGV[3] = n, then n strings of pairs, then
	 * fields to delete; KEYS[4] the space's role-use hash (a deleted token
	 * holds no role). 1, -1 (changed since read) or 0 (gone). */
	[SCRIPT_TOKEN_SOFT_DELETE] =
	LUA_CUSTOM_ROLE
	"if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 's') == 'D' then\n"
	"  return 0\n"
	"end\n"
	"if (redis.call('HGET', KEYS[1], 'rv') or '0') ~= ARGV[1] then return -1 end\n"
	"local ro = redis.call('HGET', KEYS[1], 'ro')\n"
	"if custom(ro) then redis.call('HINCRBY', KEYS[4], ro, -1) end\n"
	"local n = tonumber(ARGV[3])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 4, n + 3))\n"
	"if #ARGV > n + 3 then redis.call('HDEL', KEYS[1], unpack(ARGV, n + 4)) end\n"
	"redis.call('HINCRBY', KEYS[1], 'rv', 1)\n"
	"redis.call('ZREM', KEYS[2], ARGV[2])\n"
	"redis.call('ZADD', KEYS[3], ARGV[2], ARGV[2])\n"
	"return 1\n",

	/* A create with its call's start in the same round trip (call.c):
	 * KEYS[1] space hash, KEYS[2] token index, KEYS[3] token hash (or,
	 * taking its id here, the prefix of the space's token keys), KEYS[4]
	 * activity stream, KEYS[5] the space's role-use hash, KEYS[6] the hash
	 * of its role, KEYS[7..] the call's rate limiters; ARGV[1] the token's
	 * id, or the name of the sequence to take it from once every check has
	 * passed (a refused create takes no id), ARGV[2] actor ('' = no
	 * activity entry), ARGV[3] action, ARGV[4] stream cap, ARGV[5] the
	 * default cap on the space's tokens (its "lt" overrides), ARGV[6] role
	 * it holds ("0" none), ARGV[7] the record's bytes, ARGV[8] the default
	 * bound on them (its "lb" overrides), ARGV[9..] the limiters
	 * (LUA_LIMITERS), then field/value pairs. The limiters first (a refused
	 * call checks and writes nothing), then the checks, then the record,
	 * its index and the activity entry. {the limiters' answers, the space's
	 * HGETALL, result, the id}: 1 written, 0 the id is taken (never merged
	 * into another token), -1 the space holds its most tokens, -2 its role
	 * is gone, -3 the record is too large, -4 no such space, -5 a limiter
	 * refused, -6 the sequence is outside 1..TD_ID_MAX.
	 * The sequence ({tokens}:seq) is the one key outside the slot of the
	 * KEYS: the store names it only where every key is on one node (one
	 * Redis, or Sentinel's primary), never on a cluster (records.c). */
	[SCRIPT_TOKEN_CREATE] =
	LUA_CUSTOM_ROLE
	LUA_FIELD
	LUA_LIMITERS
	"local sp = redis.call('HGETALL', KEYS[1])\n"
	"local rates, ok = limiters(sp, 7, 9)\n"
	"if not ok then return {rates, sp, -5} end\n"
	"if #sp == 0 then return {rates, sp, -4} end\n"
	"local id, key, seq = ARGV[1], KEYS[3], string.sub(ARGV[1], 1, 1) == '{'\n"
	"if not seq and redis.call('EXISTS', key) == 1 then return {rates, sp, 0} end\n"
	"if tonumber(ARGV[7]) > positive(field(sp, 'lb'), ARGV[8]) then return {rates, sp, -3} end\n"
	"if redis.call('ZCARD', KEYS[2]) >= positive(field(sp, 'lt'), ARGV[5]) then\n"
	"  return {rates, sp, -1}\n"
	"end\n"
	"if custom(ARGV[6]) and redis.call('EXISTS', KEYS[6]) == 0 then return {rates, sp, -2} end\n"
	"if seq then\n"
	"  local n = redis.call('INCR', ARGV[1])\n"
	"  if n < 1 or n > " TD_ID_MAX_LUA " then return {rates, sp, -6} end\n"
	"  id = string.format('%d', n)\n"	/* exact: n <= 2^53 - 1 */
	"  key = KEYS[3] .. id\n"
	"  if redis.call('EXISTS', key) == 1 then return {rates, sp, 0} end\n"
	"end\n"
	"if custom(ARGV[6]) then redis.call('HINCRBY', KEYS[5], ARGV[6], 1) end\n"
	"redis.call('HSET', key, unpack(ARGV, 11 + 2 * tonumber(ARGV[9])))\n"
	"redis.call('ZADD', KEYS[2], id, id)\n"
	"if ARGV[2] ~= '' then\n"	/* the activity entry, in the same round trip */
	"  redis.pcall('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'a', ARGV[2], 'x', ARGV[3],"
	" 'r', id)\n"
	"end\n"
	"return {rates, sp, 1, id}\n",

	/* KEYS[1] token hash, KEYS[2] its index, KEYS[3] the space's role-use
	 * hash; ARGV[1] id. Returns the deleted fields, or false (also for a
	 * soft-deleted token, s = D, whose role was released then). */
	[SCRIPT_TOKEN_DELETE] =
	LUA_CUSTOM_ROLE
	"local t = redis.call('HGETALL', KEYS[1])\n"
	"if #t == 0 or redis.call('HGET', KEYS[1], 's') == 'D' then return false end\n"
	"local ro = redis.call('HGET', KEYS[1], 'ro')\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"if custom(ro) then redis.call('HINCRBY', KEYS[3], ro, -1) end\n"
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

	/* A call's start: its rate limiters, then the space record (and the
	 * record the call is about), in one round trip. KEYS[1] the space
	 * hash, KEYS[2..] the limiters' keys, then (when there is one more
	 * key) that record's hash; ARGV[1] "1" to return the space, ARGV[2..]
	 * the limiters (LUA_LIMITERS). {the limiters' answers, the space's
	 * HGETALL (empty when not asked), the record's (empty when not asked
	 * or when a limiter refused)}. */
	[SCRIPT_RATE_CHECK] =
	LUA_FIELD
	LUA_LIMITERS
	"local sp = redis.call('HGETALL', KEYS[1])\n"
	"local rates, ok = limiters(sp, 2, 2)\n"
	"local rec = {}\n"
	"if ok and #KEYS > 1 + tonumber(ARGV[2]) then rec = redis.call('HGETALL', KEYS[#KEYS]) end\n"
	"if ARGV[1] ~= '1' then sp = {} end\n"
	"return {rates, sp, rec}\n",

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

	/* KEYS[1] space hash, KEYS[2] the space's role index, KEYS[3] its role
	 * id counter; ARGV[1] role key prefix, ARGV[2] the most roles a space
	 * holds, ARGV[3] the name, ARGV[4] = k, ARGV[5..k+4] the roles it
	 * inherits from, then field/value pairs. Names are unique in a space,
	 * and every role inherited from exists, checked here so no concurrent
	 * write or delete slips between. The id follows the built-ins. Returns
	 * the id, false (no space), -1 (the space holds its most roles), -2
	 * (the name is taken), -3 (an inherited role is gone). */
	[SCRIPT_ROLE_CREATE] =
	LUA_CUSTOM_ROLE
	"if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
	"local ids = redis.call('ZRANGE', KEYS[2], 0, -1)\n"
	"if #ids >= tonumber(ARGV[2]) then return -1 end\n"
	"for _, id in ipairs(ids) do\n"
	"  if redis.call('HGET', ARGV[1] .. id, 'n') == ARGV[3] then return -2 end\n"
	"end\n"
	"local k = tonumber(ARGV[4])\n"
	"for i = 5, k + 4 do\n"
	"  if custom(ARGV[i]) and redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then return -3 end\n"
	"end\n"
	"local id = redis.call('INCR', KEYS[3])\n"
	"if id <= 2 then\n"
	"  redis.call('SET', KEYS[3], '2')\n"
	"  id = redis.call('INCR', KEYS[3])\n"
	"end\n"
	"local sid = string.format('%d', id)\n"	/* never "1e+15" */
	"redis.call('HSET', ARGV[1] .. sid, unpack(ARGV, k + 5))\n"
	"redis.call('ZADD', KEYS[2], sid, sid)\n"
	"return id\n",

	/* KEYS[1] role hash, KEYS[2] the space's role index; ARGV[1] revision
	 * read, ARGV[2] the role's id, ARGV[3] role key prefix, ARGV[4] its
	 * name, ARGV[5] = k, ARGV[6..k+5] the roles it inherits from, then
	 * ARGV[k+6] = n, n strings of pairs, the rest fields to delete.
	 * Compare-and-set as SCRIPT_PUT_EXISTING, with the create's checks:
	 * 1, -1 (changed since read), 0 (gone), -2 (name taken), -3 (an
	 * inherited role is gone). */
	[SCRIPT_ROLE_PUT] =
	LUA_CUSTOM_ROLE
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"if (redis.call('HGET', KEYS[1], 'rv') or '0') ~= ARGV[1] then return -1 end\n"
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
	"  if id ~= ARGV[2] and redis.call('HGET', ARGV[3] .. id, 'n') == ARGV[4] then return -2 end\n"
	"end\n"
	"local k = tonumber(ARGV[5])\n"
	"for i = 6, k + 5 do\n"
	"  if custom(ARGV[i]) and redis.call('EXISTS', ARGV[3] .. ARGV[i]) == 0 then return -3 end\n"
	"end\n"
	"local b = k + 6\n"
	"local n = tonumber(ARGV[b])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, b + 1, b + n))\n"
	"if #ARGV > b + n then redis.call('HDEL', KEYS[1], unpack(ARGV, b + n + 1)) end\n"
	"redis.call('HINCRBY', KEYS[1], 'rv', 1)\n"
	"return 1\n",

	/* KEYS[1] role hash, KEYS[2] the space's role index, KEYS[3] its
	 * role-use hash; ARGV[1] the id, ARGV[2] revision read, ARGV[3] role key
	 * prefix. Deletes a role no token holds and no role inherits from, in
	 * one step with those checks. Its fields, false (gone), -1 (changed
	 * since read), -2 (a token holds it), -3 (a role inherits from it). */
	[SCRIPT_ROLE_DELETE] =
	"local t = redis.call('HGETALL', KEYS[1])\n"
	"if #t == 0 then return false end\n"
	"if (redis.call('HGET', KEYS[1], 'rv') or '0') ~= ARGV[2] then return -1 end\n"
	"if tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') > 0 then return -2 end\n"
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
	"  local ih = redis.call('HGET', ARGV[3] .. id, 'ih')\n"
	"  if ih and string.find(',' .. ih .. ',', ',' .. ARGV[1] .. ',', 1, true) then return -3 end\n"
	"end\n"
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('ZREM', KEYS[2], ARGV[1])\n"
	"redis.call('HDEL', KEYS[3], ARGV[1])\n"
	"return t\n",

	/* KEYS[1] the space's role index; ARGV[1] role key prefix. What the
	 * enforcement reads of each role, {{id, {field, value, ...}}...}: its
	 * flags, environments and inherited roles, never its large lists. */
	[SCRIPT_ROLE_TABLE] =
	"#!lua flags=no-writes\n"
	"local out = {}\n"
	"for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
	"  local v = redis.call('HMGET', ARGV[1] .. id, 'e', 'p', 'ih')\n"
	"  if v[1] then\n"
	"    local h = {'e', v[1]}\n"
	"    if v[2] then h[#h + 1] = 'p'; h[#h + 1] = v[2] end\n"
	"    if v[3] then h[#h + 1] = 'ih'; h[#h + 1] = v[3] end\n"
	"    out[#out + 1] = {id, h}\n"
	"  end\n"
	"end\n"
	"return out\n",

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
