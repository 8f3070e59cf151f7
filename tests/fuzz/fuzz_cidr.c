/*
 * libFuzzer target for the address-range parsers (core/cidr.h), which read
 * what an attacker writes: the allowed_cidrs items of a request body in
 * every view, POST /v1/verify's remote_addr, the REMOTE_ADDR and
 * X-Forwarded-For a web server passes on, and the stored form read back
 * from Redis. It bounds them: nothing read past the length given, no range
 * accepted longer than TD_CIDR_TEXT_MAX or with host bits set, and
 * everything accepted printed back in one spelling that reads back as the
 * very same range (so a stored record never changes meaning). An IPv4
 * address accepted is exactly its canonical spelling (no leading zeros, no
 * octal or hex forms). The input is also split on newlines into
 * trusted_proxies, a peer and an X-Forwarded-For to find a client address
 * in, which must be one of the addresses given.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/core/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_range(const char *s, size_t n)
{
	char printed[TD_CIDR_TEXT_MAX + 1], v4[INET_ADDRSTRLEN];
	struct td_cidr c, again;
	struct td_addr a;
	const char *why = NULL;
	int i;

	if (td_addr_parse(s, n, &a) == 4) {
		/* the one spelling of an IPv4 address is inet_ntop's */
		if (inet_ntop(AF_INET, a.b + 12, v4, sizeof(v4)) == NULL || strlen(v4) != n ||
		    memcmp(v4, s, n) != 0)
			abort();
	}
	if (td_cidr_parse(s, n, &c, &why) != 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (n > TD_CIDR_TEXT_MAX || c.bits > 128 || (c.v4 && c.bits < 96))
		abort();
	for (i = c.bits; i < 128; i++)
		if (c.net[i / 8] & (0x80u >> (i % 8)))
			abort();	/* host bits past the prefix */
	td_cidr_format(&c, printed, sizeof(printed));
	if (strlen(printed) > TD_CIDR_TEXT_MAX || td_cidr_parse(printed, strlen(printed), &again,
								  &why) != 0 ||
	    memcmp(&c, &again, sizeof(c)) != 0)
		abort();
	memcpy(a.b, c.net, sizeof(a.b));
	if (!td_cidr_contains(&c, &a) || !td_cidr_within(&c, &c))
		abort();
}

static void
one_list(const char *s, size_t n)
{
	static struct td_cidr_list l, again;
	static char printed[TD_CIDRS_MAX * (TD_CIDR_TEXT_MAX + 1)];
	const char *why = NULL;
	int len;

	if (td_cidr_list_parse(s, n, &l, &why) != 0)
		return;
	if (l.n < 0 || l.n > TD_CIDRS_MAX || (len = td_cidr_list_format(&l, printed,
									sizeof(printed))) < 0 ||
	    td_cidr_list_parse(printed, (size_t)len, &again, &why) != 0 || again.n != l.n ||
	    memcmp(again.r, l.r, sizeof(l.r[0]) * (size_t)l.n) != 0 ||
	    !td_cidr_list_within(&l, &l))
		abort();
}

/* Whether one of xff's comma-separated hops is a. */
static int
a_hop(const char *xff, const struct td_addr *a)
{
	const char *p = xff, *comma, *x, *y;
	struct td_addr hop;

	for (;; p = comma + 1) {
		comma = strchr(p, ',');
		y = comma != NULL ? comma : p + strlen(p);
		for (x = p; x < y && (*x == ' ' || *x == '\t'); x++)
			;
		while (y > x && (y[-1] == ' ' || y[-1] == '\t'))
			y--;
		if (td_addr_parse(x, (size_t)(y - x), &hop) > 0 && memcmp(&hop, a, sizeof(hop)) == 0)
			return 1;
		if (comma == NULL)
			return 0;
	}
}

/* "trusted\npeer\nxff": the client found is the peer or an X-Forwarded-For hop. */
static void
client(const char *s, size_t n)
{
	static struct td_cidr_list trusted;
	const char *nl1 = memchr(s, '\n', n), *nl2, *why;
	char peer[128], *xff;
	struct td_addr a, p;
	size_t plen;

	if (nl1 == NULL || (nl2 = memchr(nl1 + 1, '\n', n - (size_t)(nl1 + 1 - s))) == NULL ||
	    td_cidr_list_parse(s, (size_t)(nl1 - s), &trusted, &why) != 0)
		return;
	plen = (size_t)(nl2 - nl1 - 1);
	if (plen >= sizeof(peer) || memchr(nl1 + 1, '\0', plen) != NULL)
		return;
	memcpy(peer, nl1 + 1, plen);
	peer[plen] = '\0';
	if ((xff = strndup(nl2 + 1, n - (size_t)(nl2 + 1 - s))) == NULL)
		return;
	if (td_client_address(&trusted, peer, xff, &a) == 0 &&
	    (td_addr_parse(peer, plen, &p) < 0 ||
	     (memcmp(&a, &p, sizeof(a)) != 0 && !a_hop(xff, &a))))
		abort();	/* an address from nowhere */
	free(xff);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	one_range(s, size);
	one_list(s, size);
	client(s, size);
	return 0;
}
