/*
 * Address ranges and the client address (see cidr.h). inet_pton reads
 * addresses; what it would let through that has two readings is refused
 * first (leading zeros in an IPv4 octet: octal to some parsers; a zone id;
 * anything but the address's own characters), and the prefix is read with
 * a range-checked parser. Every input here is hostile and bounded by its
 * length; nothing is allocated.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tokend/core/cidr.h"
#include "tokend/server/parse.h"

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Dotted decimal: digits and dots, no octet with a leading zero. */
static int
dotted_ok(const char *s, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (i - start > 1 && s[start] == '0')
				return 0;
			start = i + 1;
		} else if (s[i] < '0' || s[i] > '9') {
			return 0;
		}
	}
	return 1;
}

static int
ipv6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

int
td_addr_parse(const char *s, size_t len, struct td_addr *out)
{
	char buf[TD_ADDR_TEXT_MAX + 1];
	const char *tail;
	size_t i;

	if (s == NULL || len == 0 || len > TD_ADDR_TEXT_MAX)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, ':', len) == NULL) {
		if (!dotted_ok(buf, len) || inet_pton(AF_INET, buf, out->b + 12) != 1)
			return -1;
		memcpy(out->b, v4_mapped, sizeof(v4_mapped));
		return 4;
	}
	for (i = 0; i < len; i++)
		if (!ipv6_char(buf[i]))
			return -1;
	/* an IPv4 tail ("::ffff:1.2.3.4") follows the last colon */
	tail = strrchr(buf, ':') + 1;
	if (strchr(tail, '.') != NULL && !dotted_ok(tail, strlen(tail)))
		return -1;
	return inet_pton(AF_INET6, buf, out->b) == 1 ? 6 : -1;
}

/* Whether a and b agree on their first bits bits. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff00u >> rest) & 0xffu) == 0;
}

int
td_cidr_parse(const char *s, size_t len, struct td_cidr *out, const char **why)
{
	const char *slash;
	struct td_addr a;
	long long bits;
	size_t alen, plen;
	int family, max, i;

	*why = "is not an IP address or range (a.b.c.d/n, or an IPv6 address/n)";
	if (s == NULL || len == 0)
		return -1;
	if (len > TD_CIDR_TEXT_MAX) {
		*why = "is too long for an IP range";
		return -1;
	}
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if ((family = td_addr_parse(s, alen, &a)) < 0)
		return -1;
	max = family == 4 ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		/* one spelling: digits only, no sign, no leading zero */
		plen = len - alen - 1;
		if (plen == 0 || (plen > 1 && slash[1] == '0') ||
		    td_parse_int64(slash + 1, plen, 0, max, &bits) != 0) {
			*why = family == 4 ? "has a prefix length outside 0..32"
					   : "has a prefix length outside 0..128";
			return -1;
		}
	}
	if (family == 4)
		bits += 96;
	for (i = (int)bits; i < 128; i++)
		if (a.b[i / 8] & (0x80u >> (i % 8))) {
			*why = "has bits set past its prefix length: give the network address "
			       "(10.0.0.0/8, not 10.0.0.1/8)";
			return -1;
		}
	memcpy(out->net, a.b, sizeof(out->net));
	out->bits = (unsigned char)bits;
	out->v4 = family == 4;
	return 0;
}

void
td_cidr_format(const struct td_cidr *c, char *out, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (c->v4)
		inet_ntop(AF_INET, c->net + 12, a, sizeof(a));
	else
		inet_ntop(AF_INET6, c->net, a, sizeof(a));
	snprintf(out, size, "%s/%u", a, (unsigned)(c->v4 ? c->bits - 96 : c->bits));
}

void
td_addr_format(const struct td_addr *a, char *out, size_t size)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(a->b, mapped, sizeof(mapped)) == 0)
		inet_ntop(AF_INET, a->b + 12, out, (socklen_t)size);
	else
		inet_ntop(AF_INET6, a->b, out, (socklen_t)size);
}

int
td_cidr_contains(const struct td_cidr *c, const struct td_addr *a)
{
	return prefix_equal(c->net, a->b, c->bits);
}

int
td_cidr_within(const struct td_cidr *inner, const struct td_cidr *outer)
{
	return inner->bits >= outer->bits && prefix_equal(inner->net, outer->net, outer->bits);
}

int
td_cidr_allows(const struct td_cidr *r, int n, const struct td_addr *a)
{
	int i;

	if (n <= 0)
		return 1;
	if (a == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (td_cidr_contains(&r[i], a))
			return 1;
	return 0;
}

int
td_cidr_list_within(const struct td_cidr_list *inner, const struct td_cidr_list *outer)
{
	int i, j;

	if (outer->n == 0)
		return 1;
	if (inner->n == 0)
		return 0;	/* unbound: reaches where outer may not */
	for (i = 0; i < inner->n; i++) {
		for (j = 0; j < outer->n && !td_cidr_within(&inner->r[i], &outer->r[j]); j++)
			;
		if (j == outer->n)
			return 0;
	}
	return 1;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

int
td_cidr_list_parse(const char *s, size_t len, struct td_cidr_list *out, const char **why)
{
	const char *p = s, *end = s + len, *comma, *a, *b;

	out->n = 0;
	while (p < end) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		for (a = p; a < comma && blank(*a); a++)
			;
		for (b = comma; b > a && blank(b[-1]); b--)
			;
		if (out->n == TD_CIDRS_MAX) {
			*why = "holds more than 64 ranges";
			return -1;
		}
		if (td_cidr_parse(a, (size_t)(b - a), &out->r[out->n], why) != 0)
			return -1;
		out->n++;
		if (comma + 1 == end) {
			*why = "ends in a comma";
			return -1;
		}
		p = comma + 1;
	}
	return 0;
}

int
td_cidr_list_format(const struct td_cidr_list *l, char *out, size_t size)
{
	char one[TD_CIDR_TEXT_MAX + 1];
	size_t used = 0, n;
	int i;

	if (size == 0)
		return -1;
	out[0] = '\0';
	for (i = 0; i < l->n; i++) {
		td_cidr_format(&l->r[i], one, sizeof(one));
		n = strlen(one);
		if (used + (i > 0) + n >= size)
			return -1;
		if (i > 0)
			out[used++] = ',';
		memcpy(out + used, one, n + 1);
		used += n;
	}
	return (int)used;
}

static int
list_contains(const struct td_cidr_list *l, const struct td_addr *a)
{
	return l->n > 0 && td_cidr_allows(l->r, l->n, a);
}

int
td_client_address(const struct td_cidr_list *trusted, const char *peer, const char *xff,
		  struct td_addr *out)
{
	const char *end, *start, *a, *b;
	struct td_addr hop;

	if (peer == NULL || td_addr_parse(peer, strlen(peer), out) < 0)
		return -1;
	/* X-Forwarded-For is anyone's to write: only a trusted proxy's counts */
	if (!list_contains(trusted, out) || xff == NULL)
		return 0;
	/* right to left: each trusted proxy appended the peer it saw, so the
	 * first address not a trusted proxy is the client; anything left of it
	 * the client may have written itself */
	for (end = xff + strlen(xff); end > xff; end = start - 1) {
		for (start = end; start > xff && start[-1] != ','; start--)
			;
		for (a = start; a < end && blank(*a); a++)
			;
		for (b = end; b > a && blank(b[-1]); b--)
			;
		if (td_addr_parse(a, (size_t)(b - a), &hop) < 0)
			return -1;	/* not guessed: a bound credential is refused */
		*out = hop;
		if (!list_contains(trusted, &hop) || start == xff)
			return 0;
	}
	return 0;
}

int
td_peer_trusted(const struct td_cidr_list *trusted, const char *peer)
{
	struct td_addr a;

	return peer != NULL && td_addr_parse(peer, strlen(peer), &a) >= 0 &&
	       list_contains(trusted, &a);
}
