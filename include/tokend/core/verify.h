/*
 * The verify path: may this delivery token read this content URI?
 * Called on every content request (nginx auth_request, Apache's FastCGI
 * authorizer, programs via POST /v1/verify). Budget: one HMAC, at most one
 * Redis round trip, nothing allocated beyond the request, nothing about the
 * token logged. A token that fails its tag costs no Redis command at all.
 *
 * The rules, as a table shared with the README (verify_rules below). They
 * judge the URI's canonical form (core/uri.h); "cdn", "stories", "assets"
 * and "themes" match in any case.
 *
 * By access kind: public reads published content (not assets, not themes);
 * private (preview) reads everything, drafts included; asset reads assets
 * only; release reads published content and, by from_release, the releases
 * in its release_ids; theme reads published content and themes.
 *
 *   URI                                   rule                                        refusal
 *   the URI as sent                       one canonical form (core/uri.h)             403 bad_uri
 *   any                                   token active, not expired, current secret   401
 *   any                                   client address in allowed_cidrs, if any     403
 *   version= anything but published       access private (preview): a draft           401
 *   published (no version, or published)  the token may read published content        401
 *   /…/cdn/stories/<id>, by_ids=, id=     every id in story_ids (if the token has any)  403
 *   /…/cdn/stories without ids            not for a token with story_ids              403
 *   resolve_relations=, resolve_links=    not for a token with story_ids              403
 *   from_release=<id>                     id in release_ids; with none, private only  403
 *   branch_id=<id>                        the token's branch_id, if it has one        403
 *   /…/cdn/assets…                        asset or private tokens only                403
 *   /…/cdn/themes…                        theme or private tokens only                403
 *   any other path                        not asset tokens (they are for assets)      403
 */
#ifndef TOKEND_VERIFY_H
#define TOKEND_VERIFY_H

#include <stdint.h>

#include "tokend/core/core.h"
#include "tokend/core/token.h"
#include "tokend/server/target.h"

/* The fields of a token record the verify path reads. The id lists and
 * the address ranges point into the token they were taken from, or into
 * the cache's own copy. */
struct td_token_facts {
	int64_t id, space_id;
	enum td_status status;
	enum td_access access;
	unsigned rights;
	int64_t expires_at;
	int64_t branch_id;
	int min_cache;			/* effective: the token's, else its space's */
	uint32_t kid;
	enum td_token_kind signed_kind;
	unsigned char secret[TD_SECRET_BYTES];
	int64_t prev_expires_at_ms;	/* a replaced value's grace window, 0 = none */
	uint32_t prev_kid;
	enum td_token_kind prev_kind;
	unsigned char prev_secret[TD_SECRET_BYTES];
	int64_t max_uses;		/* > 0: each accepted verify takes one use */
	const int64_t *story_ids, *release_ids;
	int nstory_ids, nrelease_ids;
	const struct td_cidr *cidrs;	/* allowed_cidrs: ncidrs 0, anywhere */
	int ncidrs;
};

/* The facts of t, whose space's min_cache is space_min_cache; the lists point into t. */
void td_token_facts_of(const struct td_token *t, int space_min_cache, struct td_token_facts *out);



enum td_verify_reason {
	TD_VERIFY_OK,
	TD_VERIFY_MISSING_TOKEN,
	TD_VERIFY_MALFORMED_TOKEN,
	TD_VERIFY_FORGED_TOKEN,
	TD_VERIFY_UNKNOWN_KEY,
	TD_VERIFY_NOT_A_DELIVERY_TOKEN,
	TD_VERIFY_UNKNOWN_TOKEN,	/* deleted, or never existed */
	TD_VERIFY_REGENERATED,		/* an older value of a regenerated token */
	TD_VERIFY_DISABLED,
	TD_VERIFY_EXPIRED,
	TD_VERIFY_DRAFT_NOT_ALLOWED,
	TD_VERIFY_NO_DELIVERY,		/* a management-only token (DatoCMS can_access_cda false) */
	TD_VERIFY_STORY_NOT_ALLOWED,
	TD_VERIFY_RELEASE_NOT_ALLOWED,
	TD_VERIFY_BRANCH_NOT_ALLOWED,
	TD_VERIFY_ASSET_TOKEN_REQUIRED,
	TD_VERIFY_ASSETS_ONLY,
	TD_VERIFY_THEME_TOKEN_REQUIRED,
	TD_VERIFY_USES_EXHAUSTED,
	TD_VERIFY_ADDRESS_NOT_ALLOWED,	/* from outside the token's allowed_cidrs */
	TD_VERIFY_BAD_URI,
	TD_VERIFY_STORE_UNAVAILABLE,
	TD_VERIFY__MAX
};

struct td_verify_result {
	enum td_verify_reason reason;
	int status;			/* 200, 401 or 403 */
	int have_token;			/* the fields below are set */
	int64_t token_id;
	int64_t space_id;
	enum td_access access;
	int min_cache;			/* effective: the token's, else its space's */
	int draft;			/* the request asks for drafts (never cache) */
	int64_t branch_id;
	int degraded;			/* allowed on the token string alone: Redis was
					   unreachable and verify_fail_open is on */
};

/* The stable name of a reason ("draft_not_allowed"), as in the API. */
const char *td_verify_reason_name(enum td_verify_reason r);

/* The rules alone, for a token already loaded: no I/O. */
enum td_verify_reason td_verify_rules(const struct td_token_facts *t,
				      const struct td_target *uri, int64_t now, int *draft);

/* The whole check of a presented token against the original request's
 * parsed target, for a client at client (NULL: unknown, which a token
 * bound to address ranges never passes). */
void td_verify(struct td_ctx *ctx, const char *token, size_t token_len,
	       const struct td_target *uri, const struct td_addr *client,
	       struct td_verify_result *out);

#endif
