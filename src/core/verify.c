#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "tokend/core/auth.h"
#include "tokend/server/parse.h"
#include "tokend/store/store.h"
#include "tokend/core/verify.h"
#include "tokend/core/verify_cache.h"
#include "tokend/server/metrics.h"

static const struct {
	const char *name;
	int status;
} reasons[TD_VERIFY__MAX] = {
	[TD_VERIFY_OK] = { "ok", 200 },
	[TD_VERIFY_MISSING_TOKEN] = { "missing_token", 401 },
	[TD_VERIFY_MALFORMED_TOKEN] = { "malformed_token", 401 },
	[TD_VERIFY_FORGED_TOKEN] = { "forged_token", 401 },
	[TD_VERIFY_UNKNOWN_KEY] = { "unknown_key", 401 },
	[TD_VERIFY_NOT_A_DELIVERY_TOKEN] = { "not_a_delivery_token", 401 },
	[TD_VERIFY_UNKNOWN_TOKEN] = { "unknown_token", 401 },
	[TD_VERIFY_REGENERATED] = { "regenerated", 401 },
	[TD_VERIFY_DISABLED] = { "disabled", 401 },
	[TD_VERIFY_EXPIRED] = { "expired", 401 },
	[TD_VERIFY_DRAFT_NOT_ALLOWED] = { "draft_not_allowed", 401 },
	[TD_VERIFY_NO_DELIVERY] = { "no_delivery_access", 401 },
	[TD_VERIFY_STORY_NOT_ALLOWED] = { "story_not_allowed", 403 },
	[TD_VERIFY_RELEASE_NOT_ALLOWED] = { "release_not_allowed", 403 },
	[TD_VERIFY_BRANCH_NOT_ALLOWED] = { "branch_not_allowed", 403 },
	[TD_VERIFY_ASSET_TOKEN_REQUIRED] = { "asset_token_required", 403 },
	[TD_VERIFY_ASSETS_ONLY] = { "assets_only", 403 },
	[TD_VERIFY_THEME_TOKEN_REQUIRED] = { "theme_token_required", 403 },
	[TD_VERIFY_USES_EXHAUSTED] = { "uses_exhausted", 403 },
	[TD_VERIFY_ADDRESS_NOT_ALLOWED] = { "address_not_allowed", 403 },
	[TD_VERIFY_BAD_URI] = { "bad_uri", 403 },
	[TD_VERIFY_STORE_UNAVAILABLE] = { "store_unavailable", 403 },
};

const char *
td_verify_reason_name(enum td_verify_reason r)
{
	return r >= 0 && r < TD_VERIFY__MAX ? reasons[r].name : "unknown";
}

static int
ids_contain(const int64_t *ids, int n, int64_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* An id in its one spelling: "042" could be a slug to the origin. */
static int
parse_id(const char *s, size_t len, int64_t *out)
{
	return td_parse_id(s, len, TD_ID_MAX, out);
}

/* Anything but published content is a draft request: an origin may read a
 * version tokend does not know as a draft, never the other way round. */
static int
is_draft(const char *version)
{
	return version != NULL && strcmp(version, "published") != 0;
}

/* The index of "cdn" followed by what (stories, assets), or -1. */
static int
cdn_section(const struct td_target *uri, const char *what)
{
	int i;

	/* the first "cdn" names the section, as the origin routes it: a later
	 * "cdn/assets" inside a story's slug is a slug (in any case: an origin
	 * that ignores case must not serve a section the rules did not see) */
	for (i = 0; i + 1 < uri->nsegments; i++)
		if (strcasecmp(uri->segments[i], "cdn") == 0)
			return strcasecmp(uri->segments[i + 1], what) == 0 ? i : -1;
	return -1;
}

/* Every story id the URI names must be in the token's story_ids; a token
 * restricted to some stories may not list without naming them. */
static enum td_verify_reason
check_stories(const struct td_token_facts *t, const struct td_target *uri)
{
	const char *by_ids = td_target_query(uri, "by_ids"), *id = td_target_query(uri, "id");
	const char *p, *comma, *end;
	int named = 0, at;
	int64_t v;

	if (t->nstory_ids == 0)
		return TD_VERIFY_OK;
	/* the content API embeds the stories these name in the answer: the
	 * rules cannot see which, so a restricted token may not ask */
	if (td_target_query(uri, "resolve_relations") != NULL ||
	    td_target_query(uri, "resolve_links") != NULL)
		return TD_VERIFY_STORY_NOT_ALLOWED;
	at = cdn_section(uri, "stories");
	if (at >= 0 && at + 2 < uri->nsegments) {
		if (at + 3 != uri->nsegments ||
		    parse_id(uri->segments[at + 2], strlen(uri->segments[at + 2]), &v) != 0 ||
		    !ids_contain(t->story_ids, t->nstory_ids, v))
			return TD_VERIFY_STORY_NOT_ALLOWED;	/* a slug cannot be checked */
		named = 1;
	}
	if (by_ids != NULL) {
		for (p = by_ids, end = by_ids + strlen(by_ids); p < end; p = comma + 1) {
			comma = memchr(p, ',', (size_t)(end - p));
			if (comma == NULL)
				comma = end;
			if (parse_id(p, (size_t)(comma - p), &v) != 0 || !ids_contain(t->story_ids, t->nstory_ids, v))
				return TD_VERIFY_STORY_NOT_ALLOWED;
			named = 1;
		}
	}
	if (id != NULL) {
		if (parse_id(id, strlen(id), &v) != 0 || !ids_contain(t->story_ids, t->nstory_ids, v))
			return TD_VERIFY_STORY_NOT_ALLOWED;
		named = 1;
	}
	return named || at < 0 ? TD_VERIFY_OK : TD_VERIFY_STORY_NOT_ALLOWED;
}

enum td_verify_reason
td_verify_rules(const struct td_token_facts *t, const struct td_target *uri, int64_t now,
		int *draft)
{
	const char *version = td_target_query(uri, "version");
	const char *release = td_target_query(uri, "from_release");
	const char *branch = td_target_query(uri, "branch_id");
	enum td_verify_reason r;
	int assets;
	int64_t v;

	*draft = is_draft(version);
	if (t->status == TD_STATUS_DISABLED)
		return TD_VERIFY_DISABLED;
	if (t->expires_at != 0 && t->expires_at <= now)
		return TD_VERIFY_EXPIRED;
	if (*draft ? !(t->rights & TD_RIGHT_CDA_PREVIEW) : !(t->rights & TD_RIGHT_CDA))
		return *draft ? TD_VERIFY_DRAFT_NOT_ALLOWED : TD_VERIFY_NO_DELIVERY;
	assets = cdn_section(uri, "assets") >= 0;
	if (assets && t->access != TD_ACCESS_ASSET && t->access != TD_ACCESS_PRIVATE)
		return TD_VERIFY_ASSET_TOKEN_REQUIRED;
	if (!assets && t->access == TD_ACCESS_ASSET)
		return TD_VERIFY_ASSETS_ONLY;
	if (cdn_section(uri, "themes") >= 0 && t->access != TD_ACCESS_THEME &&
	    t->access != TD_ACCESS_PRIVATE)
		return TD_VERIFY_THEME_TOKEN_REQUIRED;
	if ((r = check_stories(t, uri)) != TD_VERIFY_OK)
		return r;
	if (release != NULL) {
		if (parse_id(release, strlen(release), &v) != 0)
			return TD_VERIFY_RELEASE_NOT_ALLOWED;
		if (t->nrelease_ids > 0 ? !ids_contain(t->release_ids, t->nrelease_ids, v)
					: t->access != TD_ACCESS_PRIVATE)
			return TD_VERIFY_RELEASE_NOT_ALLOWED;
	}
	if (branch != NULL && t->branch_id != 0 &&
	    (parse_id(branch, strlen(branch), &v) != 0 || v != t->branch_id))
		return TD_VERIFY_BRANCH_NOT_ALLOWED;
	return TD_VERIFY_OK;
}

/* Redis is unreachable and the operator chose to fail open: a token whose
 * tag verifies passes on what its string says (kind, space, id), with the
 * draft rule applied to its kind and no other restriction known. */
static enum td_verify_reason
degraded(const struct td_token_ref ref, const struct td_target *uri, struct td_verify_result *out)
{
	const char *version = td_target_query(uri, "version");

	out->have_token = 1;
	out->degraded = 1;
	out->token_id = ref.id;
	out->space_id = ref.space_id;
	out->access = ref.kind == TD_KIND_PRIVATE ? TD_ACCESS_PRIVATE
		    : ref.kind == TD_KIND_ASSET ? TD_ACCESS_ASSET
		    : ref.kind == TD_KIND_RELEASE ? TD_ACCESS_RELEASE
		    : ref.kind == TD_KIND_THEME ? TD_ACCESS_THEME : TD_ACCESS_PUBLIC;
	out->draft = is_draft(version);
	if (out->draft && out->access != TD_ACCESS_PRIVATE)
		return TD_VERIFY_DRAFT_NOT_ALLOWED;
	return TD_VERIFY_OK;
}

/* The record's facts: from the worker's cache when it holds them and
 * tracking vouches for them, else read (tracked) and cached. NOT_FOUND for
 * an absent record; *scratch holds the facts of a read that was not cached. */
static int
load_facts(struct td_ctx *ctx, const struct td_token_ref *ref, struct td_token_facts *scratch,
	   const struct td_token_facts **facts)
{
	struct td_token *t = &ctx->scratch_token;
	int rc, space_mc = 0, tracked = 0;
	int cache = ctx->verify_cache != NULL && td_store_tracking_sync(ctx->store);

	if (cache && td_verify_cache_get(ctx->verify_cache, ref->space_id, ref->id, facts)) {
		td_metric_count(TD_M_CACHE_HIT);
		return *facts != NULL ? TD_STORE_OK : TD_STORE_NOT_FOUND;
	}
	if (ctx->verify_cache != NULL)
		td_metric_count(TD_M_CACHE_MISS);
	rc = td_store_token_get_tracked(ctx->store, ref->space_id, ref->id, t, &space_mc,
					cache ? &tracked : NULL);
	if (rc == TD_STORE_OK)
		td_token_facts_of(t, space_mc, scratch);
	if (tracked && (rc == TD_STORE_OK || rc == TD_STORE_NOT_FOUND))
		td_verify_cache_put(ctx->verify_cache, ref->space_id, ref->id,
				    rc == TD_STORE_OK ? scratch : NULL);
	*facts = scratch;
	return rc;
}

/* An accepted token's use, for its last_used_at (written later, off this path). */
static void
note_use(struct td_ctx *ctx, const struct td_token_ref *ref)
{
	if (ctx->last_use != NULL)
		td_last_use_note(ctx->last_use, ref->space_id, ref->id, td_now_ms());
}

/* Everything up to the rules; fills out's token fields once the record is loaded. */
static enum td_verify_reason
check(struct td_ctx *ctx, const char *token, size_t token_len, const struct td_target *target,
      const struct td_addr *client, struct td_verify_result *out)
{
	const struct td_token_facts *t;
	struct td_token_facts scratch;
	struct td_token_ref ref;
	enum td_verify_reason reason;
	int64_t left;
	int rc;

	if (token == NULL || token_len == 0)
		return TD_VERIFY_MISSING_TOKEN;
	switch (td_token_parse(ctx->keyring, token, token_len, &ref)) {
	case TD_TOKEN_OK:
		break;
	case TD_TOKEN_UNKNOWN_KEY:
		return TD_VERIFY_UNKNOWN_KEY;
	case TD_TOKEN_FORGED:
		return TD_VERIFY_FORGED_TOKEN;
	case TD_TOKEN_MALFORMED:
	default:
		return TD_VERIFY_MALFORMED_TOKEN;
	}
	if (ref.kind == TD_KIND_PAT)
		return TD_VERIFY_NOT_A_DELIVERY_TOKEN;
	rc = load_facts(ctx, &ref, &scratch, &t);
	if (rc < 0)
		return ctx->cfg->verify_fail_open ? degraded(ref, target, out)
						  : TD_VERIFY_STORE_UNAVAILABLE;
	if (rc != TD_STORE_OK)
		return TD_VERIFY_UNKNOWN_TOKEN;
	/* the record is the authority: an older value (regenerated, or issued
	 * under another key or kind) no longer matches it, but for the one a
	 * regenerate with a grace window replaced, until the window ends (to
	 * the millisecond, whatever the cache holds) */
	if (!td_token_accepts(t, &ref))
		return TD_VERIFY_REGENERATED;
	/* before anything about the token is told: from elsewhere, a bound
	 * token's status, restrictions and uses are no one's business */
	if (!td_cidr_allows(t->cidrs, t->ncidrs, client))
		return TD_VERIFY_ADDRESS_NOT_ALLOWED;
	out->have_token = 1;
	out->token_id = t->id;
	out->space_id = t->space_id;
	out->access = t->access;
	out->min_cache = t->min_cache;
	out->branch_id = t->branch_id;
	if ((reason = td_verify_rules(t, target, (int64_t)time(NULL), &out->draft)) != TD_VERIFY_OK)
		return reason;
	if (t->max_uses <= 0) {
		note_use(ctx, &ref);
		return reason;
	}
	/* allowed: a token with a use limit pays one use, atomically in Redis,
	 * so concurrent verifies on any number of workers never pass more */
	switch (td_store_token_take_use(ctx->store, ref.space_id, ref.id, &left)) {
	case TD_STORE_OK:
		note_use(ctx, &ref);
		return TD_VERIFY_OK;
	case TD_STORE_QUOTA:
		return TD_VERIFY_USES_EXHAUSTED;
	case TD_STORE_NOT_FOUND:
		return TD_VERIFY_UNKNOWN_TOKEN;
	default:
		return TD_VERIFY_STORE_UNAVAILABLE;	/* never fail open on a counted use */
	}
}

void
td_verify(struct td_ctx *ctx, const char *token, size_t token_len, const struct td_target *uri,
	  const struct td_addr *client, struct td_verify_result *out)
{
	memset(out, 0, sizeof(*out));
	out->reason = check(ctx, token, token_len, uri, client, out);
	out->status = reasons[out->reason].status;
}

