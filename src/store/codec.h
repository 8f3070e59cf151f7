/*
 * The record codec, inside the store only: a space, token or PAT to the
 * field/value strings of its Redis hash and back, each record type read
 * from one field table in codec.c. It works on plain (bytes, length)
 * strings, so it needs neither Redis nor hiredis: records.c adapts replies
 * and builds commands, the unit tests feed it arrays.
 *
 * It must never change the byte format (every record ever written stays
 * readable, and what it writes an older tokend reads), never decide a rule
 * about a record, and never write a value it could not read back.
 */
#ifndef TOKEND_STORE_CODEC_H
#define TOKEND_STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "tokend/limits.h"

enum codec_record {
	CODEC_SPACE,	/* struct td_space */
	CODEC_TOKEN,	/* struct td_token */
	CODEC_PAT,	/* struct td_pat */
	CODEC_ROLE,	/* struct td_role */
	CODEC__MAX
};

#define CODEC_FIELDS_MAX 64	/* fields in the largest table (a bit mask's width) */

/* Bytes the numbers, id lists and hex of any one record can take. */
#define CODEC_NUM_CHARS 21	/* "-9223372036854775808" and a comma */
#define CODEC_BYTES ((CODEC_FIELDS_MAX + 2 * TD_IDS_MAX + TD_TOKEN_MODULES_MAX + \
		      TD_PAT_SPACES_MAX) * CODEC_NUM_CHARS + 2 * TD_PAT_HASH_BYTES + \
		     TD_CIDRS_MAX * (TD_CIDR_TEXT_MAX + 1))

/* A string that need not end in NUL. */
struct codec_str {
	const char *s;
	size_t len;
};

/* An encoded record. Values point into out->buf and into the record itself
 * (text, secrets): use them before the record changes. */
struct codec_out {
	struct codec_str set[2 * CODEC_FIELDS_MAX];	/* field, value, field, value, ... */
	int nset;					/* strings in set, two a field */
	const char *del[CODEC_FIELDS_MAX];		/* fields at their default: left out,
							   so HDEL on a put */
	int ndel;
	size_t used;
	char buf[CODEC_BYTES];
};

/* rec is the struct type names. 0, or -1 with *bad naming the field whose
 * value is out of its bounds (then nothing may be written). */
int codec_encode(enum codec_record type, const void *rec, struct codec_out *out,
		 const char **bad);

/* kv: n strings, field, value, field, value... as HGETALL answers. Unknown
 * fields are ignored; the defaults encode left out are restored. 0, or -1
 * with *bad naming the malformed or missing field ("" for an odd n). The
 * record's ids are not in its hash: the caller sets them. */
int codec_decode(enum codec_record type, void *rec, const struct codec_str *kv, size_t n,
		 const char **bad);

#endif
