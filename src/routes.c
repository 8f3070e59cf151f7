/* The route table: every endpoint tokend serves, in match order. */
#include "tokend/api_admin.h"
#include "tokend/app.h"

const struct td_route td_routes[] = {
	{ "health", TD_METHOD_GET, "/v1/health", TD_DIALECT_ADMIN, td_api_health },
	{ "version", TD_METHOD_GET, "/v1/version", TD_DIALECT_ADMIN, td_api_version },
};

const size_t td_routes_count = sizeof(td_routes) / sizeof(td_routes[0]);
