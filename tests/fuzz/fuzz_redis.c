/*
 * libFuzzer target for what tokend parses of Redis's own words and of its
 * redis_url: the URL parser (every accepted URL within its bounds, a
 * cluster's seeds and a sentinel set never empty), the key slot (checked
 * against CRC16 computed bit by bit here, with the hash-tag rule written
 * out independently), and the CLUSTER NODES reading (never trusts a view
 * with no "myself" line, nor one with more primaries down than up).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned
crc16_bitwise(const uint8_t *s, size_t n)
{
	unsigned crc = 0;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned)s[i] << 8;
		for (b = 0; b < 8; b++)
			crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
	}
	return crc;
}

static unsigned
slot_reference(const uint8_t *k, size_t n)
{
	size_t open, close;

	for (open = 0; open < n && k[open] != '{'; open++)
		;
	for (close = open + 1; close < n && k[close] != '}'; close++)
		;
	if (open < n && close < n && close > open + 1)
		return crc16_bitwise(k + open + 1, close - open - 1) & 16383;
	return crc16_bitwise(k, n) & 16383;
}

static void
check_url(const char *s)
{
	struct td_redis_url u;
	char err[256];
	int i;

	if (td_redis_url_parse(s, &u, err, sizeof(err)) != 0) {
		if (strlen(err) == 0)
			abort();	/* every refusal names why */
		return;
	}
	if (u.db < 0 || u.db > TD_REDIS_DB_MAX || memchr(u.host, '\0', sizeof(u.host)) == NULL)
		abort();
	if (u.is_cluster && (u.nseeds < 1 || u.nseeds > TD_CLUSTER_SEEDS_MAX || u.db != 0))
		abort();
	if (u.is_sentinel && (u.nsentinels < 1 || u.nsentinels > TD_SENTINELS_MAX ||
			      u.master_name[0] == '\0'))
		abort();
	for (i = 0; i < u.nseeds; i++)
		if (u.seeds[i].port < 1 || u.seeds[i].port > 65535 || u.seeds[i].host[0] == '\0')
			abort();
	for (i = 0; i < u.nsentinels; i++)
		if (u.sentinels[i].port < 1 || u.sentinels[i].port > 65535 ||
		    u.sentinels[i].host[0] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (td_redis_key_slot((const char *)data, size) != slot_reference(data, size))
		abort();
	check_url(s);
	/* no "myself" line: never trusted, whatever else it says */
	if (strstr(s, "myself") == NULL &&
	    (td_redis_cluster_view_trusted(s, 0) || td_redis_cluster_view_trusted(s, 1)))
		abort();
	/* trusted as a primary implies trusted as a node */
	if (td_redis_cluster_view_trusted(s, 1) && !td_redis_cluster_view_trusted(s, 0))
		abort();
	free(s);
	return 0;
}
