/*
 * libFuzzer target for token strings: td_token_parse against a fixed
 * keyring, and every token that parses must format back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokend/core/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct td_keyring kr;

static void
load_keyring(void)
{
	char path[] = "/tmp/tokend-fuzz-keyringXXXXXX", err[256];
	const char *line = "1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    td_keyring_load(&kr, path, err, sizeof(err)) != 0)
		abort();
	close(fd);
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_token_ref ref;
	char again[TD_TOKEN_STR_MAX];

	if (kr.n == 0)
		load_keyring();
	if (td_token_parse(&kr, (const char *)data, size, &ref) == TD_TOKEN_OK) {
		/* canonical: a token that verifies is exactly what we would issue */
		if (td_token_format(&kr, &ref, again, sizeof(again)) != 0 || strlen(again) != size ||
		    memcmp(again, data, size) != 0)
			abort();
	}
	return 0;
}
