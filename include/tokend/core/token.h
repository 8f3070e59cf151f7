/*
 * The token model: one record that the Storyblok, DatoCMS and SoftwareOne
 * APIs all view. Defaults and validation live here and only here; a dialect
 * turns its request into a typed td_token_change (core/core.h) and renders a
 * td_token_view back in its own shape.
 */
#ifndef TOKEND_TOKEN_H
#define TOKEND_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "tokend/core/cidr.h"
#include "tokend/core/sign.h"

#include "tokend/limits.h"

enum td_access {
	TD_ACCESS_PUBLIC,
	TD_ACCESS_PRIVATE,	/* preview: drafts and published */
	TD_ACCESS_ASSET,
	TD_ACCESS_RELEASE,
	TD_ACCESS_THEME,
	TD_ACCESS__MAX
};

/* What a token may do besides its access kind: the DatoCMS view sets these
 * directly, the Storyblok view through `access`. Invariant kept by
 * td_token_set_access/td_token_set_delivery: access private <=> CDA_PREVIEW. */
enum td_right {
	TD_RIGHT_CDA = 1 << 0,		/* delivery, published */
	TD_RIGHT_CDA_PREVIEW = 1 << 1,	/* delivery, drafts */
	TD_RIGHT_CMA = 1 << 2,		/* management, through the token's role */
};

/* Tokens every space is born with (DatoCMS "factory" tokens). */
enum td_hardcoded {
	TD_HARDCODED_NONE,
	TD_HARDCODED_READONLY,
	TD_HARDCODED__MAX
};

enum td_status {
	TD_STATUS_ACTIVE,
	TD_STATUS_DISABLED,
	TD_STATUS_DELETED,	/* SoftwareOne soft delete: kept for audit, invisible, dead */
	TD_STATUS__MAX
};

struct td_id_list {
	int64_t ids[TD_IDS_MAX];
	int n;
};

struct td_token {
	int64_t id;
	int64_t space_id;
	int has_name;			/* else null */
	enum td_access access;
	int64_t branch_id;		/* 0 = null */
	int min_cache;
	int has_min_cache;		/* else the space's min_cache applies */
	enum td_status status;
	int64_t expires_at;		/* unix seconds, 0 = never */
	unsigned rights;		/* enum td_right bits */
	int64_t role_id;		/* management role, 0 = none */
	enum td_hardcoded hardcoded;
	int64_t modules[TD_TOKEN_MODULES_MAX];	/* SoftwareOne module ids */
	int nmodules;
	/* signing: the token string is derived from these and the key */
	uint32_t kid;
	enum td_token_kind signed_kind;
	unsigned char secret[TD_SECRET_BYTES];
	/* audit */
	int64_t created_at_ms, updated_at_ms;
	char created_by[TD_ACTOR_MAX], updated_by[TD_ACTOR_MAX];
	int64_t enabled_at_ms, disabled_at_ms;
	char enabled_by[TD_ACTOR_MAX], disabled_by[TD_ACTOR_MAX];
	/* the credential that minted this one, when it is a management token
	 * ("p:<pat id>" or "t:<space>:<token id>", "" = none): deleting that
	 * one deletes this one (core/cascade) */
	char minted_by[TD_CRED_REF_MAX];
	/* the record's revision, counted up by every write: a write is made
	 * only on the revision it read (store: compare-and-set) */
	int64_t revision;
	/* rotation with a grace window: the value a regenerate replaced keeps
	 * working until prev_expires_at_ms (0 = none kept) */
	int64_t prev_expires_at_ms;
	uint32_t prev_kid;
	enum td_token_kind prev_kind;
	unsigned char prev_secret[TD_SECRET_BYTES];
	/* a use limit (0 = none): each accepted verify takes one use, in
	 * Redis; remaining_uses is as read */
	int64_t max_uses, remaining_uses;
	int64_t last_used_ms;		/* last accepted (0: never), as written by workers */
	/* Large buffers last (~22 KB): td_token_defaults empties them without
	 * clearing every byte, which was a 10,000-token list's biggest cost
	 * after JSON. Only the bytes up to a string's NUL or a list's n mean
	 * anything. */
	char name[TD_TEXT_BYTES(TD_NAME_MAX)];
	char description[TD_TEXT_BYTES(TD_DESCRIPTION_MAX)];
	char icon[TD_TEXT_BYTES(TD_ICON_MAX)];
	struct td_id_list story_ids;
	struct td_id_list release_ids;
	/* where it may be used from (n 0: anywhere): verify, and management
	 * for a management token */
	struct td_cidr_list allowed_cidrs;
};

const char *td_access_name(enum td_access a);
int td_access_parse(const char *s, enum td_access *out);
const char *td_status_name(enum td_status s);
enum td_token_kind td_access_token_kind(enum td_access a);

/* Defaults for a new token: name null, access unset (create requires it),
 * no branch, empty id lists, min_cache inherited, active, no expiry. */
void td_token_defaults(struct td_token *t);

struct td_text;
struct td_token_change;
struct td_core_error;

/* Validates the fields present in ch and applies them to t; 0, or -1 with
 * *err naming the first bad field. creating: the shape's required fields
 * must be present. */
int td_token_apply_change(struct td_token *t, const struct td_token_change *ch, int creating,
			  struct td_core_error *err);

/* A text value against a limit in characters: control characters, strict
 * UTF-8 and length; 0 or -1 with *msg. NULL text (null) passes. */
int td_text_check(const struct td_text *v, size_t max_chars, const char **msg);

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF); *chars gets the count. 0 or -1. */
int td_utf8_valid(const unsigned char *s, size_t len, size_t *chars);
void td_text_copy(const struct td_text *v, char *out, size_t size);
/* "YYYY-MM-DDTHH:MM:SS[.sss]Z" to unix seconds; null is 0 (never). */
int td_time_parse(const struct td_text *v, int64_t *out, const char **msg);

struct td_change_cidrs;
/* A request's allowed_cidrs into out, each range strictly read (cidr.h),
 * at most TD_CIDRS_MAX; none is no binding. 0, or -1 with *msg. */
int td_cidrs_apply(const struct td_change_cidrs *in, struct td_cidr_list *out, const char **msg);

/* Sets the access kind and the delivery rights that follow from it. */
void td_token_set_access(struct td_token *t, enum td_access a);
/* Sets the delivery rights and the access kind that follows from them. */
void td_token_set_delivery(struct td_token *t, int cda, int cda_preview);
const char *td_hardcoded_name(enum td_hardcoded h);

/* A new secret, signed by the newest key, with the prefix of the current
 * access: the old value stops verifying at once (its secret no longer
 * matches the record). Used at creation too. */
int td_token_regenerate(struct td_token *t, const struct td_keyring *kr);

/* Before a regenerate: keep t's current value working until until_ms (a
 * grace window), or (0) keep none. A window still open ends here: only the
 * value being replaced is kept. */
void td_token_keep_previous(struct td_token *t, int64_t until_ms);

/* Whether ref presents a value a token accepts: its current one, or the
 * one a regenerate replaced while its grace window (prev_until_ms) lasts.
 * The one rule for the verify path (token facts) and management auth. */
#define td_token_accepts(t, ref)                                                        \
	(td_token_value_is((t)->kid, (t)->signed_kind, (t)->secret, (ref)) ||            \
	 ((t)->prev_expires_at_ms > td_now_ms() &&                                        \
	  td_token_value_is((t)->prev_kid, (t)->prev_kind, (t)->prev_secret, (ref))))

/* Whether ref presents the value (kid, kind, secret), compared in constant
 * time. */
int td_token_value_is(uint32_t kid, enum td_token_kind kind, const unsigned char *secret,
		      const struct td_token_ref *ref);

/* The min_cache a verify should use: the token's own, else the space's. */
int td_token_effective_min_cache(const struct td_token *t, int space_min_cache);

void td_format_time_ms(int64_t ms, char *out, size_t size);	/* ISO 8601 UTC, .sssZ */
int64_t td_now_ms(void);

#endif
