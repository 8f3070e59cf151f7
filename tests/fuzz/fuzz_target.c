/* libFuzzer target for the request target parser (path segments, query). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/server/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct td_target t;
	char uri[TD_PATH_MAX + TD_QUERY_MAX + 8];
	int i;

	if (size >= sizeof(uri))
		return 0;
	memcpy(uri, data, size);
	uri[size] = '\0';	/* REQUEST_URI arrives NUL-terminated */
	if (td_target_parse(&t, uri) == TD_TARGET_OK) {
		for (i = 0; i < t.nsegments; i++)
			if (strlen(t.segments[i]) > TD_PATH_MAX)
				abort();
		for (i = 0; i < t.nparams; i++)
			(void)td_target_query(&t, t.params[i].key);
	}
	return 0;
}
