/*
 * Reading a JSON body's values into a core change: types only. Whether a
 * value is acceptable (lengths, ranges, names) is the core's to say; these
 * say only "must be a string", "is not a number" and the like, as an
 * TD_ERR_INVALID naming the field.
 */
#ifndef TOKEND_API_FIELDS_H
#define TOKEND_API_FIELDS_H

#include <json-c/json.h>

#include "tokend/core/core.h"

/* Each returns 0, or -1 with *err set for field. A missing value (v NULL)
 * or JSON null reads as null where null has a meaning. */
int td_field_text(struct json_object *v, const char *field, struct td_text *out,
		  struct td_core_error *err);
int td_field_int64(struct json_object *v, const char *field, int64_t *out,
		   struct td_core_error *err);
int td_field_bool(struct json_object *v, const char *field, int *out, struct td_core_error *err);
/* An array of integers (null: empty). More than TD_IDS_MAX: n says how
 * many, nothing kept; the core refuses it. */
int td_field_ids(struct json_object *v, const char *field, struct td_change_ids *out,
		 struct td_core_error *err);

/* A list of strings for address ranges: null (or v NULL) is none; each
 * item must be a string (its value is the core's to judge). More than
 * TD_CIDRS_MAX: n says how many, nothing kept; the core refuses it. */
int td_field_cidrs(struct json_object *v, const char *field, struct td_change_cidrs *out,
		   struct td_core_error *err);

/* Fails err with TD_ERR_INVALID for field. Returns -1. */
int td_field_fail(struct td_core_error *err, const char *field, const char *message);

/* The request-shape parsers of each dialect, reachable from tests/fuzz. */
int td_storyblok_parse(struct json_object *body, int creating, struct td_token_change *ch,
		       struct td_core_error *err);
/* *code: the DatoCMS error code of a document-shape error (INVALID_FORMAT, …). */
int td_dato_parse(struct json_object *body, int creating, int64_t path_id,
		  struct td_token_change *ch, struct td_core_error *err, const char **code);
/* A DatoCMS role document (JSON:API, type "role") into a change; *code as
 * for td_dato_parse. Each permission list's entries are checked for their
 * shape and kept as compact JSON text that points into body. */
int td_dato_role_parse(struct json_object *body, int64_t path_id, struct td_role_change *ch,
		       struct td_core_error *err, const char **code);
/* *account: the ACC-… id the body names (0 none, TD_NAMED_MALFORMED when
 * it names one that is no account id: also an error). */
int td_swo_parse(struct json_object *body, int creating, struct td_token_change *ch,
		 int64_t *account, struct td_core_error *err);
int td_space_parse(struct json_object *obj, int creating, struct td_space_change *ch,
		   struct td_core_error *err);
int td_pat_parse(struct json_object *obj, struct td_pat_change *ch, struct td_core_error *err);

/* {"credentials":["…", …]} into a leak report: an object whose
 * "credentials" is a list of strings; how many and how long is the core's
 * to judge (more than TD_LEAK_CREDENTIALS_MAX: n says how many). */
int td_leak_parse(struct json_object *body, struct td_leak_report *report,
		  struct td_core_error *err);

/* "TKN-1234-5678" → 12345678 (groups 2) or "MOD-1756" (groups 1); -1 otherwise. */
int td_swo_parse_id(const char *s, const char *prefix, int groups, int64_t *out);

#endif
