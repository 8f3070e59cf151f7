/*
 * Token strings and the keyring.
 *
 * A token is "<prefix><payload>", payload = base64url of
 *   version(1) | key id(4) | space id(8) | record id(8) | secret(16) | tag(16)
 * where tag = HMAC-SHA256(tag key of that key id, prefix | payload before the tag),
 * truncated to 128 bits. So a token:
 *   - says what it is (the prefix: td_pub_, td_prv_, td_ast_, td_rel_, td_thm_, td_pat_),
 *     in URL-safe characters only;
 *   - or, for tokens made through the SoftwareOne view, reads
 *     "idt:TKN-NNNN-NNNN:<payload>" as SoftwareOne's CLI expects (the tag then
 *     covers "td_idt_", and the TKN id must be the payload's id);
 *   - carries what locates its record (space, id) and the key that signed it;
 *   - is refused, forged or mistyped, before any Redis I/O (CRYPTO_memcmp on the tag);
 *   - is useless from Redis alone: delivery records keep only the secret (a
 *     regeneration nonce), and a token can be re-derived only with the key;
 *     personal access tokens keep only a keyed hash of their secret, so not
 *     even Redis plus the key gives one back.
 * Keys come from a keyring file of "<key id> <base64 32-byte key>" lines; the
 * highest id signs, all listed ids verify, and dropping an id revokes every
 * token it signed.
 */
#ifndef TOKEND_SIGN_H
#define TOKEND_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define TD_KEY_BYTES        32
#define TD_TAG_BYTES        16
#define TD_SECRET_BYTES     16
#define TD_KEYRING_MAX      64
#define TD_PAT_HASH_BYTES   32
#define TD_TOKEN_PREFIX_LEN 7
#define TD_TOKEN_PAYLOAD_BYTES (1 + 4 + 8 + 8 + TD_SECRET_BYTES + TD_TAG_BYTES)
#define TD_TOKEN_B64_LEN    71	/* base64url of 53 bytes, unpadded */
#define TD_TOKEN_LEN        (TD_TOKEN_PREFIX_LEN + TD_TOKEN_B64_LEN)
#define TD_TOKEN_VERSION    1
#define TD_IDT_HEAD_LEN     18	/* "idt:TKN-NNNN-NNNN:" */
#define TD_IDT_ID_MAX       99999999LL	/* what TKN-NNNN-NNNN can say */
#define TD_TOKEN_STR_MAX    (TD_IDT_HEAD_LEN + TD_TOKEN_B64_LEN + 1)	/* any form, with NUL */

enum td_token_kind {
	TD_KIND_PUBLIC,
	TD_KIND_PRIVATE,
	TD_KIND_ASSET,
	TD_KIND_RELEASE,
	TD_KIND_THEME,
	TD_KIND_PAT,
	TD_KIND_IDT,		/* SoftwareOne API token: "idt:TKN-…:…" */
	TD_KIND__MAX
};

struct td_key {
	uint32_t kid;
	unsigned char tag_key[TD_KEY_BYTES];	/* derived: signs token strings */
	unsigned char hash_key[TD_KEY_BYTES];	/* derived: hashes PAT secrets */
	/* HMAC contexts keyed once at load: OpenSSL 3's one-shot HMAC() fetches
	 * the algorithm and keys a fresh context per call, which was 15% of a
	 * forged-token verify's CPU. Owned by the keyring (td_keyring_wipe). */
	struct evp_mac_ctx_st *tag_mac, *hash_mac;
};

struct td_keyring {
	struct td_key keys[TD_KEYRING_MAX];
	int n;
	int newest;		/* index of the highest key id */
};

struct td_token_ref {
	enum td_token_kind kind;
	uint32_t kid;
	int64_t space_id;	/* 0 for personal access tokens */
	int64_t id;
	unsigned char secret[TD_SECRET_BYTES];
};

enum td_token_check {
	TD_TOKEN_OK,
	TD_TOKEN_MALFORMED,	/* wrong prefix, length or alphabet */
	TD_TOKEN_UNKNOWN_KEY,	/* signed by a key id no longer in the keyring */
	TD_TOKEN_FORGED,	/* the tag does not match */
};

const char *td_token_kind_prefix(enum td_token_kind kind);

int td_keyring_load(struct td_keyring *kr, const char *path, char *err, size_t errlen);
/* The keyring file's text (checked 0600 or stricter) into buf; the caller
 * erases it after use. */
int td_keyring_read_text(const char *path, char *buf, size_t size, size_t *len,
			 char *err, size_t errlen);
/* Removes key kid from the file (written anew and renamed over it, 0600):
 * every token and PAT it signed stops working at the next start or SIGHUP.
 * Refuses the signing (newest) key and a key id not in the file. */
int td_keyring_retire(const char *path, uint32_t kid, char *err, size_t errlen);
/* Appends a fresh random key with the next id; creates the file 0600. */
int td_keyring_generate(const char *path, uint32_t *kid, char *err, size_t errlen);
const struct td_key *td_keyring_find(const struct td_keyring *kr, uint32_t kid);
const struct td_key *td_keyring_newest(const struct td_keyring *kr);
/* Frees the MAC contexts and erases the keys; kr is then empty. */
void td_keyring_wipe(struct td_keyring *kr);
/* Replaces *dst (wiped) by *src, which is left empty: keyrings own their
 * MAC contexts, so they move rather than copy. */
void td_keyring_move(struct td_keyring *dst, struct td_keyring *src);

/* Fresh random secret for a new or regenerated token. */
int td_token_new_secret(unsigned char secret[TD_SECRET_BYTES]);

/* Writes the token string (up to TD_TOKEN_STR_MAX with NUL); -1 if ref->kid
 * is not in the keyring, out is too small, or an idt token's id is too large. */
int td_token_format(const struct td_keyring *kr, const struct td_token_ref *ref,
		    char *out, size_t outsize);

/* Checks a presented token: no I/O, constant-time tag comparison. */
enum td_token_check td_token_parse(const struct td_keyring *kr, const char *s, size_t len,
				   struct td_token_ref *out);

/* The stored form of a PAT secret: HMAC(hash key, secret). */
int td_pat_secret_hash(const struct td_key *key, const unsigned char secret[TD_SECRET_BYTES],
		       unsigned char out[TD_PAT_HASH_BYTES]);

#endif
