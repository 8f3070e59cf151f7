/* The route table: every endpoint tokend serves, in match order. */
#include "tokend/api/handlers.h"
#include "tokend/api/admin.h"
#include "tokend/server/app.h"

/* What the verify pool serves too (a load balancer's health check included). */
#define VERIFY_POOL_ROUTES \
	{ "health", TD_METHOD_GET, "/v1/health", TD_DIALECT_ADMIN, td_api_health }, \
	{ "version", TD_METHOD_GET, "/v1/version", TD_DIALECT_ADMIN, td_api_version }, \
	{ "verify", TD_METHOD_GET, "/v1/verify", TD_DIALECT_VERIFY, td_api_verify_get }, \
	{ "verify.post", TD_METHOD_POST, "/v1/verify", TD_DIALECT_VERIFY, td_api_verify_post },

const struct td_route td_verify_routes[] = { VERIFY_POOL_ROUTES };
const size_t td_verify_routes_count = sizeof(td_verify_routes) / sizeof(td_verify_routes[0]);

const struct td_route td_routes[] = {
	VERIFY_POOL_ROUTES

	{ "openapi", TD_METHOD_GET, "/v1/openapi.json", TD_DIALECT_ADMIN, td_api_openapi },

	{ "spaces.list", TD_METHOD_GET, "/v1/spaces", TD_DIALECT_ADMIN, td_api_spaces_list },
	{ "spaces.create", TD_METHOD_POST, "/v1/spaces", TD_DIALECT_ADMIN, td_api_spaces_create },
	{ "spaces.get", TD_METHOD_GET, "/v1/spaces/{space_id}", TD_DIALECT_ADMIN, td_api_space_get },
	{ "spaces.update", TD_METHOD_PUT, "/v1/spaces/{space_id}", TD_DIALECT_ADMIN,
	  td_api_space_update },
	{ "spaces.delete", TD_METHOD_DELETE, "/v1/spaces/{space_id}", TD_DIALECT_ADMIN,
	  td_api_space_delete },
	{ "spaces.activities", TD_METHOD_GET, "/v1/spaces/{space_id}/activities", TD_DIALECT_ADMIN,
	  td_api_space_activities },
	{ "activities", TD_METHOD_GET, "/v1/activities", TD_DIALECT_ADMIN, td_api_account_activities },

	{ "api_keys.list", TD_METHOD_GET, "/v1/spaces/{space_id}/api_keys", TD_DIALECT_STORYBLOK,
	  td_api_storyblok_list },
	{ "api_keys.create", TD_METHOD_POST, "/v1/spaces/{space_id}/api_keys", TD_DIALECT_STORYBLOK,
	  td_api_storyblok_create },
	{ "api_keys.get", TD_METHOD_GET, "/v1/spaces/{space_id}/api_keys/{id}", TD_DIALECT_STORYBLOK,
	  td_api_storyblok_get },
	{ "api_keys.update", TD_METHOD_PUT | TD_METHOD_PATCH, "/v1/spaces/{space_id}/api_keys/{id}",
	  TD_DIALECT_STORYBLOK, td_api_storyblok_update },
	{ "api_keys.delete", TD_METHOD_DELETE, "/v1/spaces/{space_id}/api_keys/{id}",
	  TD_DIALECT_STORYBLOK, td_api_storyblok_delete },
	{ "api_keys.regenerate", TD_METHOD_POST, "/v1/spaces/{space_id}/api_keys/{id}/regenerate",
	  TD_DIALECT_STORYBLOK, td_api_storyblok_regenerate },

	{ "dato.list", TD_METHOD_GET, "/access_tokens", TD_DIALECT_DATOCMS, td_api_dato_list },
	{ "dato.create", TD_METHOD_POST, "/access_tokens", TD_DIALECT_DATOCMS, td_api_dato_create },
	{ "dato.find", TD_METHOD_GET, "/access_tokens/{*id}", TD_DIALECT_DATOCMS, td_api_dato_find },
	{ "dato.update", TD_METHOD_PUT, "/access_tokens/{*id}", TD_DIALECT_DATOCMS, td_api_dato_update },
	{ "dato.destroy", TD_METHOD_DELETE, "/access_tokens/{*id}", TD_DIALECT_DATOCMS,
	  td_api_dato_destroy },
	{ "dato.regenerate", TD_METHOD_POST, "/access_tokens/{*id}/regenerate_token",
	  TD_DIALECT_DATOCMS, td_api_dato_regenerate },
	{ "dato.roles", TD_METHOD_GET, "/roles", TD_DIALECT_DATOCMS, td_api_dato_roles },
	{ "dato.roles.create", TD_METHOD_POST, "/roles", TD_DIALECT_DATOCMS,
	  td_api_dato_role_create },
	{ "dato.role", TD_METHOD_GET, "/roles/{*id}", TD_DIALECT_DATOCMS, td_api_dato_role },
	{ "dato.role.update", TD_METHOD_PUT, "/roles/{*id}", TD_DIALECT_DATOCMS,
	  td_api_dato_role_update },
	{ "dato.role.destroy", TD_METHOD_DELETE, "/roles/{*id}", TD_DIALECT_DATOCMS,
	  td_api_dato_role_destroy },
	{ "dato.role.duplicate", TD_METHOD_POST, "/roles/{*id}/duplicate", TD_DIALECT_DATOCMS,
	  td_api_dato_role_duplicate },

	{ "swo.list", TD_METHOD_GET, "/public/v1/accounts/api-tokens", TD_DIALECT_SOFTWAREONE,
	  td_api_swo_list },
	{ "swo.create", TD_METHOD_POST, "/public/v1/accounts/api-tokens", TD_DIALECT_SOFTWAREONE,
	  td_api_swo_create },
	{ "swo.get", TD_METHOD_GET, "/public/v1/accounts/api-tokens/{*id}", TD_DIALECT_SOFTWAREONE,
	  td_api_swo_get },
	{ "swo.update", TD_METHOD_PUT, "/public/v1/accounts/api-tokens/{*id}", TD_DIALECT_SOFTWAREONE,
	  td_api_swo_update },
	{ "swo.delete", TD_METHOD_DELETE, "/public/v1/accounts/api-tokens/{*id}",
	  TD_DIALECT_SOFTWAREONE, td_api_swo_delete },
	{ "swo.enable", TD_METHOD_POST, "/public/v1/accounts/api-tokens/{*id}/enable",
	  TD_DIALECT_SOFTWAREONE, td_api_swo_enable },
	{ "swo.disable", TD_METHOD_POST, "/public/v1/accounts/api-tokens/{*id}/disable",
	  TD_DIALECT_SOFTWAREONE, td_api_swo_disable },
	{ "swo.modules", TD_METHOD_GET, "/public/v1/accounts/modules", TD_DIALECT_SOFTWAREONE,
	  td_api_swo_modules },
	{ "swo.module", TD_METHOD_GET, "/public/v1/accounts/modules/{*id}", TD_DIALECT_SOFTWAREONE,
	  td_api_swo_module },

	{ "credentials.revoke", TD_METHOD_POST, "/v1/credentials/revoke", TD_DIALECT_ADMIN,
	  td_api_leak_report },

	{ "pats.list", TD_METHOD_GET, "/v1/personal_access_tokens", TD_DIALECT_ADMIN, td_api_pats_list },
	{ "pats.create", TD_METHOD_POST, "/v1/personal_access_tokens", TD_DIALECT_ADMIN,
	  td_api_pats_create },
	{ "pats.get", TD_METHOD_GET, "/v1/personal_access_tokens/{id}", TD_DIALECT_ADMIN,
	  td_api_pat_get },
	{ "pats.delete", TD_METHOD_DELETE, "/v1/personal_access_tokens/{id}", TD_DIALECT_ADMIN,
	  td_api_pat_delete },
	{ "whoami", TD_METHOD_GET, "/v1/whoami", TD_DIALECT_ADMIN, td_api_whoami },
};

const size_t td_routes_count = sizeof(td_routes) / sizeof(td_routes[0]);
