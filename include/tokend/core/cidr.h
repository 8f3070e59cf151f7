/*
 * Address ranges (CIDR): where a credential may be used from
 * (allowed_cidrs), which peers may speak for a client (trusted_proxies), and
 * the client address a request comes from. Every address is kept as 16
 * bytes, IPv4 in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so 1.2.3.4 and
 * ::ffff:1.2.3.4 are one address and one prefix test serves both families.
 * No allocation, no I/O: it runs on the verify path.
 */
#ifndef TOKEND_CORE_CIDR_H
#define TOKEND_CORE_CIDR_H

#include <stddef.h>

#include "tokend/limits.h"

struct td_addr {
	unsigned char b[16];
};

struct td_cidr {
	unsigned char net[16];	/* the network, host bits zero */
	unsigned char bits;	/* prefix over all 128 bits (an IPv4 range's + 96) */
	unsigned char v4;	/* written as IPv4: shown so */
};

struct td_cidr_list {
	int n;
	struct td_cidr r[TD_CIDRS_MAX];
};

/* An address, exactly: dotted IPv4 without leading zeros, or IPv6 (an IPv4
 * tail allowed); no zone id, brackets, port or whitespace. 4 or 6 for the
 * way it was written, -1 for anything else. */
int td_addr_parse(const char *s, size_t len, struct td_addr *out);

/* "a.b.c.d/n" (n 0..32), "<IPv6>/n" (0..128), or a bare address (/32,
 * /128). Host bits set past the prefix are refused, not cleared: "10.0.0.1/8"
 * is more likely a typo than a wish for 10.0.0.0/8. 0, or -1 with *why. */
int td_cidr_parse(const char *s, size_t len, struct td_cidr *out, const char **why);

/* The one spelling of c ("10.0.0.0/8", "2001:db8::/32": RFC 5952), always
 * with its prefix; out holds TD_CIDR_TEXT_MAX + 1 bytes. */
void td_cidr_format(const struct td_cidr *c, char *out, size_t size);

/* a in its one spelling (IPv4-mapped as dotted IPv4) into out, which holds
 * at least TD_ADDR_TEXT_MAX + 1 bytes. */
void td_addr_format(const struct td_addr *a, char *out, size_t size);

/* Whether c holds a; whether inner lies wholly inside outer. */
int td_cidr_contains(const struct td_cidr *c, const struct td_addr *a);
int td_cidr_within(const struct td_cidr *inner, const struct td_cidr *outer);

/* Whether a credential bound to ranges r[0..n) may be used from a (NULL:
 * the address is unknown). No ranges: from anywhere; ranges and no known
 * address: never (fail closed). The one rule for verify and management. */
int td_cidr_allows(const struct td_cidr *r, int n, const struct td_addr *a);

/* Whether each range of inner lies inside one of outer's; an empty outer
 * holds everything, an empty inner (unbound) only an empty outer. */
int td_cidr_list_within(const struct td_cidr_list *inner, const struct td_cidr_list *outer);

/* Comma-separated ranges, blanks around each allowed ("", none): the
 * trusted_proxies setting and the stored form. 0, or -1 with *why. */
int td_cidr_list_parse(const char *s, size_t len, struct td_cidr_list *out, const char **why);

/* l as its stored form ("10.0.0.0/8,::1/128") into out; its length, or -1
 * when out (size bytes) is too small. */
int td_cidr_list_format(const struct td_cidr_list *l, char *out, size_t size);

/* The client a request comes from: peer (the web server's REMOTE_ADDR),
 * unless peer is in trusted, then the rightmost X-Forwarded-For (xff)
 * address that is not itself in trusted (every hop trusted: the leftmost).
 * 0 with *out, or -1 when the address cannot be known: no or no valid
 * peer, or a trusted peer forwarding a malformed list (so a bound
 * credential is refused, never judged on a guess). */
int td_client_address(const struct td_cidr_list *trusted, const char *peer, const char *xff,
		      struct td_addr *out);

/* Whether peer (the web server's REMOTE_ADDR) is one of the trusted
 * proxies: only such a peer may name another client's address. */
int td_peer_trusted(const struct td_cidr_list *trusted, const char *peer);

#endif
