/*
 * Token strings: OpenSSL does the HMAC, the randomness and the base64; this
 * file only lays out the bytes and translates base64 to its URL-safe alphabet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "tokend/server/parse.h"
#include "tokend/limits.h"
#include "tokend/core/sign.h"


#define KEY_B64_MAX 64

static const char *const kind_prefixes[TD_KIND__MAX] = {
	[TD_KIND_PUBLIC] = "td_pub_",
	[TD_KIND_PRIVATE] = "td_prv_",
	[TD_KIND_ASSET] = "td_ast_",
	[TD_KIND_RELEASE] = "td_rel_",
	[TD_KIND_THEME] = "td_thm_",
	[TD_KIND_PAT] = "td_pat_",
	[TD_KIND_IDT] = "td_idt_",	/* covered by the tag; the string says "idt:TKN-…:" */
};

const char *
td_token_kind_prefix(enum td_token_kind kind)
{
	return kind >= 0 && kind < TD_KIND__MAX ? kind_prefixes[kind] : NULL;
}

static void
put_be(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Derives a purpose-bound subkey, so the tag key and the PAT hash key of one
 * keyring entry never coincide. */
static int
derive(const unsigned char *master, const char *label, unsigned char out[TD_KEY_BYTES])
{
	unsigned int len = 0;

	return HMAC(EVP_sha256(), master, TD_KEY_BYTES, (const unsigned char *)label,
		    strlen(label), out, &len) != NULL && len == TD_KEY_BYTES ? 0 : -1;
}

/* An HMAC-SHA256 context keyed with key; NULL on failure. */
static EVP_MAC_CTX *
mac_new(const unsigned char key[TD_KEY_BYTES])
{
	static EVP_MAC *hmac;
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;

	if (hmac == NULL && (hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(hmac)) != NULL &&
	    EVP_MAC_init(ctx, key, TD_KEY_BYTES, params) == 1)
		return ctx;
	EVP_MAC_CTX_free(ctx);
	return NULL;
}

/* HMAC of a and b with a context keyed at load: init with no key restarts
 * from the stored key state, no allocation. */
static int
mac_two(EVP_MAC_CTX *ctx, const unsigned char *a, size_t alen, const unsigned char *b,
	size_t blen, unsigned char out[32])
{
	size_t outlen = 0;

	if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(ctx, a, alen) != 1 ||
	    EVP_MAC_update(ctx, b, blen) != 1 || EVP_MAC_final(ctx, out, &outlen, 32) != 1 ||
	    outlen != 32)
		return -1;
	return 0;
}

static int
compute_tag(const struct td_key *key, const char *prefix, const unsigned char *payload,
	    size_t len, unsigned char tag[TD_TAG_BYTES])
{
	unsigned char full[32];

	if (mac_two(key->tag_mac, (const unsigned char *)prefix, TD_TOKEN_PREFIX_LEN, payload, len,
		    full) != 0)
		return -1;
	memcpy(tag, full, TD_TAG_BYTES);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}

int
td_token_new_secret(unsigned char secret[TD_SECRET_BYTES])
{
	return RAND_bytes(secret, TD_SECRET_BYTES) == 1 ? 0 : -1;
}

int
td_token_format(const struct td_keyring *kr, const struct td_token_ref *ref,
		char *out, size_t outsize)
{
	unsigned char payload[TD_TOKEN_PAYLOAD_BYTES];
	char b64[TD_TOKEN_B64_LEN + 4];
	const struct td_key *key = td_keyring_find(kr, ref->kid);
	const char *prefix = td_token_kind_prefix(ref->kind);
	int n, i;

	if (key == NULL || prefix == NULL || outsize < TD_TOKEN_STR_MAX ||
	    (ref->kind == TD_KIND_IDT && (ref->id <= 0 || ref->id > TD_IDT_ID_MAX)))
		return -1;
	payload[0] = TD_TOKEN_VERSION;
	put_be(payload + 1, ref->kid, 4);
	put_be(payload + 5, (uint64_t)ref->space_id, 8);
	put_be(payload + 13, (uint64_t)ref->id, 8);
	memcpy(payload + 21, ref->secret, TD_SECRET_BYTES);
	if (compute_tag(key, prefix, payload, TD_TOKEN_PAYLOAD_BYTES - TD_TAG_BYTES,
			payload + TD_TOKEN_PAYLOAD_BYTES - TD_TAG_BYTES) != 0)
		return -1;
	n = EVP_EncodeBlock((unsigned char *)b64, payload, TD_TOKEN_PAYLOAD_BYTES);
	if (n < TD_TOKEN_B64_LEN)
		return -1;
	for (i = 0; i < TD_TOKEN_B64_LEN; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	if (ref->kind == TD_KIND_IDT) {
		snprintf(out, outsize, "idt:TKN-%04lld-%04lld:%.*s", (long long)ref->id / 10000,
			 (long long)ref->id % 10000, TD_TOKEN_B64_LEN, b64);
	} else {
		memcpy(out, prefix, TD_TOKEN_PREFIX_LEN);
		memcpy(out + TD_TOKEN_PREFIX_LEN, b64, TD_TOKEN_B64_LEN);
		out[TD_TOKEN_LEN] = '\0';
	}
	OPENSSL_cleanse(payload, sizeof(payload));
	return 0;
}

enum td_token_check
td_token_parse(const struct td_keyring *kr, const char *s, size_t len, struct td_token_ref *out)
{
	unsigned char payload[TD_TOKEN_PAYLOAD_BYTES + 3], tag[TD_TAG_BYTES];
	char b64[TD_TOKEN_B64_LEN + 2], canon[TD_TOKEN_B64_LEN + 4];
	long long idt_hi = 0, idt_lo = 0;
	const struct td_key *key;
	enum td_token_kind kind;
	const char *body;
	int i;

	if (len == TD_IDT_HEAD_LEN + TD_TOKEN_B64_LEN && memcmp(s, "idt:TKN-", 8) == 0) {
		/* "idt:TKN-NNNN-NNNN:": the id is checked against the payload below */
		if (s[12] != '-' || s[17] != ':' ||
		    td_parse_int64(s + 8, 4, 0, 9999, &idt_hi) != 0 ||
		    td_parse_int64(s + 13, 4, 0, 9999, &idt_lo) != 0)
			return TD_TOKEN_MALFORMED;
		kind = TD_KIND_IDT;
		body = s + TD_IDT_HEAD_LEN;
	} else {
		if (len != TD_TOKEN_LEN)
			return TD_TOKEN_MALFORMED;
		for (kind = 0; kind < TD_KIND__MAX; kind++)
			if (kind != TD_KIND_IDT &&
			    memcmp(s, kind_prefixes[kind], TD_TOKEN_PREFIX_LEN) == 0)
				break;
		if (kind == TD_KIND__MAX)
			return TD_TOKEN_MALFORMED;
		body = s + TD_TOKEN_PREFIX_LEN;
	}
	for (i = 0; i < TD_TOKEN_B64_LEN; i++) {
		char c = body[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return TD_TOKEN_MALFORMED;
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	b64[TD_TOKEN_B64_LEN] = '=';	/* 71 chars + one pad = 72, a whole block */
	if (EVP_DecodeBlock(payload, (const unsigned char *)b64, TD_TOKEN_B64_LEN + 1) !=
	    TD_TOKEN_PAYLOAD_BYTES + 1)
		return TD_TOKEN_MALFORMED;
	if (payload[0] != TD_TOKEN_VERSION)
		return TD_TOKEN_MALFORMED;
	/* The last character carries two unused bits: only the canonical
	 * encoding is a token, so no two strings are the same token. */
	if (EVP_EncodeBlock((unsigned char *)canon, payload, TD_TOKEN_PAYLOAD_BYTES) <
	    TD_TOKEN_B64_LEN || memcmp(canon, b64, TD_TOKEN_B64_LEN) != 0)
		return TD_TOKEN_MALFORMED;
	out->kind = kind;
	out->kid = (uint32_t)get_be(payload + 1, 4);
	out->space_id = (int64_t)get_be(payload + 5, 8);
	out->id = (int64_t)get_be(payload + 13, 8);
	memcpy(out->secret, payload + 21, TD_SECRET_BYTES);
	key = td_keyring_find(kr, out->kid);
	if (key == NULL)
		return TD_TOKEN_UNKNOWN_KEY;
	if (compute_tag(key, kind_prefixes[kind], payload, TD_TOKEN_PAYLOAD_BYTES - TD_TAG_BYTES,
			tag) != 0)
		return TD_TOKEN_FORGED;
	if (CRYPTO_memcmp(tag, payload + TD_TOKEN_PAYLOAD_BYTES - TD_TAG_BYTES, TD_TAG_BYTES) != 0)
		return TD_TOKEN_FORGED;
	if (out->space_id < 0 || out->id <= 0)
		return TD_TOKEN_MALFORMED;
	if (kind == TD_KIND_IDT && out->id != idt_hi * 10000 + idt_lo)
		return TD_TOKEN_FORGED;		/* a TKN id that is not the signed one */
	return TD_TOKEN_OK;
}

int
td_pat_secret_hash(const struct td_key *key, const unsigned char secret[TD_SECRET_BYTES],
		   unsigned char out[TD_PAT_HASH_BYTES])
{
	unsigned char full[32];
	int rc;

	rc = mac_two(key->hash_mac, secret, TD_SECRET_BYTES, NULL, 0, full);
	memcpy(out, full, TD_PAT_HASH_BYTES);
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

const struct td_key *
td_keyring_find(const struct td_keyring *kr, uint32_t kid)
{
	int i;

	for (i = 0; i < kr->n; i++)
		if (kr->keys[i].kid == kid)
			return &kr->keys[i];
	return NULL;
}

const struct td_key *
td_keyring_newest(const struct td_keyring *kr)
{
	return kr->n > 0 ? &kr->keys[kr->newest] : NULL;
}

void
td_keyring_wipe(struct td_keyring *kr)
{
	int i;

	for (i = 0; i < TD_KEYRING_MAX; i++) {
		EVP_MAC_CTX_free(kr->keys[i].tag_mac);
		EVP_MAC_CTX_free(kr->keys[i].hash_mac);
	}
	OPENSSL_cleanse(kr, sizeof(*kr));
}

void
td_keyring_move(struct td_keyring *dst, struct td_keyring *src)
{
	td_keyring_wipe(dst);
	*dst = *src;
	OPENSSL_cleanse(src, sizeof(*src));
}

int
td_keyring_read_text(const char *path, char *buf, size_t size, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "keyring_file %s: %s (create one with: tokend keys generate)",
			 path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & 0077) != 0) {
		snprintf(err, errlen, "keyring_file %s: must not be readable by group or others (chmod 600)",
			 path);
		goto done;
	}
	n = read(fd, buf, size - 1);
	if (n < 0 || (size_t)n >= size - 1) {
		snprintf(err, errlen, "keyring_file %s: unreadable or larger than %zu bytes", path,
			 size - 2);
		goto done;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	rc = 0;
done:
	close(fd);
	return rc;
}

/* One "<kid> <base64 key>" line into kr. */
static int
keyring_add_line(struct td_keyring *kr, const char *line, size_t len, int lineno,
		 const char *path, char *err, size_t errlen)
{
	unsigned char master[KEY_B64_MAX];
	const char *sp = memchr(line, ' ', len);
	struct td_key *key;
	long long kid;
	int n;

	if (sp == NULL || td_parse_int64(line, (size_t)(sp - line), 1, UINT32_MAX, &kid) != 0) {
		snprintf(err, errlen, "keyring_file %s line %d: want '<key id> <base64 key>'", path,
			 lineno);
		return -1;
	}
	len -= (size_t)(sp + 1 - line);
	if (len != 44 || (n = EVP_DecodeBlock(master, (const unsigned char *)sp + 1, 44)) != 33 ||
	    sp[44] != '=') {
		snprintf(err, errlen, "keyring_file %s line %d: the key must be 32 bytes in base64",
			 path, lineno);
		return -1;
	}
	if (kr->n == TD_KEYRING_MAX || td_keyring_find(kr, (uint32_t)kid) != NULL) {
		snprintf(err, errlen, "keyring_file %s line %d: duplicate key id or more than %d keys",
			 path, lineno, TD_KEYRING_MAX);
		return -1;
	}
	key = &kr->keys[kr->n];
	key->kid = (uint32_t)kid;
	n = derive(master, "tokend/v1/token-tag", key->tag_key) |
	    derive(master, "tokend/v1/pat-secret-hash", key->hash_key);
	OPENSSL_cleanse(master, sizeof(master));
	if (n == 0) {
		key->tag_mac = mac_new(key->tag_key);
		key->hash_mac = mac_new(key->hash_key);
		n = key->tag_mac == NULL || key->hash_mac == NULL ? -1 : 0;
	}
	if (n != 0) {
		snprintf(err, errlen, "keyring_file %s: HMAC failed", path);
		return -1;
	}
	if (kr->n == 0 || key->kid > kr->keys[kr->newest].kid)
		kr->newest = kr->n;
	kr->n++;
	return 0;
}

int
td_keyring_load(struct td_keyring *kr, const char *path, char *err, size_t errlen)
{
	static char text[TD_KEYRING_FILE_MAX];
	const char *p, *end, *nl;
	size_t len;
	int lineno = 0, rc = -1;

	memset(kr, 0, sizeof(*kr));
	if (td_keyring_read_text(path, text, sizeof(text), &len, err, errlen) != 0)
		return -1;
	for (p = text, end = text + len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		if (nl == p || *p == '#')
			continue;
		if (keyring_add_line(kr, p, (size_t)(nl - p), lineno, path, err, errlen) != 0)
			goto done;
	}
	if (kr->n == 0) {
		snprintf(err, errlen, "keyring_file %s: no keys (add one with: tokend keys generate)",
			 path);
		goto done;
	}
	rc = 0;
done:
	OPENSSL_cleanse(text, sizeof(text));
	if (rc != 0)
		td_keyring_wipe(kr);
	return rc;
}

int
td_keyring_generate(const char *path, uint32_t *kid, char *err, size_t errlen)
{
	static struct td_keyring kr;
	unsigned char master[TD_KEY_BYTES];
	char line[80], b64[KEY_B64_MAX];
	int fd, n, rc = -1;
	uint32_t next = 1;

	if (access(path, F_OK) == 0) {
		if (td_keyring_load(&kr, path, err, errlen) != 0)
			return -1;
		next = td_keyring_newest(&kr)->kid + 1;
		td_keyring_wipe(&kr);
		if (next == 0) {
			snprintf(err, errlen, "keyring_file %s: key ids exhausted", path);
			return -1;
		}
	}
	if (RAND_bytes(master, sizeof(master)) != 1) {
		snprintf(err, errlen, "RAND_bytes failed");
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)b64, master, sizeof(master));
	n = snprintf(line, sizeof(line), "%u %s\n", next, b64);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
		snprintf(err, errlen, "keyring_file %s: %s", path, strerror(errno));
		goto done;
	}
	*kid = next;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(line, sizeof(line));
	OPENSSL_cleanse(b64, sizeof(b64));
	return rc;
}
