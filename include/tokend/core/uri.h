/*
 * The URI a verify judges: the original request's URI in the one form the
 * web server serves, so that no spelling of a path or query reads what its
 * canonical form is refused. Before any rule:
 *
 *   - the path is split on '/', empty segments dropped (nginx's
 *     merge_slashes), every escape decoded, then "." and ".." removed as
 *     RFC 3986 section 5.2.4 does;
 *   - query names and values are percent-decoded ('+' stays '+');
 *
 * and the forms that servers disagree on are refused (TD_URI_BAD, 403
 * bad_uri), so the rules never judge a path one way that the origin reads
 * another:
 *
 *   - in the path: an encoded '/', '\' or '%', a raw or encoded ';' (path
 *     parameters), '\', a raw space, NUL or other control characters (C1
 *     included), bytes that are not strict UTF-8 (overlong forms included),
 *     a segment ending in '.' or ' ' (Windows drops them: "stories." is
 *     "stories" there, "..." is ".." to some), characters NFKC turns into
 *     '.', '/' or '\' (fullwidth and the like), ".." above the root, more
 *     than TD_PATH_SEGMENTS_MAX segments at any point;
 *   - in the query: a raw ';' (a separator to some servers), a parameter
 *     that a rule reads (token, version, by_ids, id, from_release, branch_id,
 *     resolve_relations, resolve_links)
 *     given twice, or spelled so that another server would read it as one
 *     (another case, "by.ids", "by ids", "version[]", " version", "[version]",
 *     "by[ids"), a name holding an escaped '%', '&', '=' or a control
 *     character (read otherwise by servers that decode twice, split after
 *     decoding, or trim), a value holding an escaped "&<rule parameter>=";
 *   - anywhere: a '#', a malformed escape, a path not starting with '/', a
 *     path or query whose canonical form outgrows TD_PATH_MAX or
 *     TD_QUERY_MAX (the text must be accepted again when sent back).
 *
 * On refusal out->text is empty.
 *
 * The canonical text (for X-Tokend-Uri: the URI the web server forwards and
 * caches under) keeps the path and the query in their order, escapes of
 * unreserved characters decoded, other escapes in upper case, and no token
 * parameter: nothing derived from it ever holds a token value.
 */
#ifndef TOKEND_CORE_URI_H
#define TOKEND_CORE_URI_H

#include <stddef.h>

#include "tokend/limits.h"
#include "tokend/server/target.h"

enum td_uri_status {
	TD_URI_OK,
	TD_URI_BAD,		/* a form servers disagree on: 403 bad_uri */
};

struct td_canon_uri {
	struct td_target t;		/* decoded segments and parameters, for the rules */
	char text[TD_CANON_URI_MAX];	/* the canonical URI without the token */
	size_t len;
	const char *why;		/* TD_URI_BAD: which rule refused it */
};

/* Canonicalizes raw (len bytes, "path[?query]") into out. */
enum td_uri_status td_uri_canonicalize(const char *raw, size_t len, struct td_canon_uri *out);

#endif
