/*
 * The built-in catalogues as the dialects show them: DatoCMS role resources
 * and SoftwareOne module entries. The core owns what a role or a module
 * grants (core/role.c, core/module.c); this file only renders them.
 */
#include <stdio.h>

#include "tokend/api/catalogue.h"

/* The DatoCMS role flags tokend has no use for are all false but the
 * admin's, which are all true: clients read them, tokend enforces only
 * can_manage_access_tokens. */
static const char *const role_flags[] = {
	"can_edit_favicon", "can_edit_site", "can_edit_schema", "can_manage_menu",
	"can_edit_environment", "can_promote_environments", "can_manage_users",
	"can_manage_shared_filters", "can_manage_upload_collections", "can_manage_build_triggers",
	"can_manage_search_indexes", "can_manage_webhooks", "can_manage_environments",
	"can_manage_sso", "can_access_audit_log", "can_manage_workflows",
	"can_perform_site_search", "can_access_build_events_log",
	"can_access_search_index_events_log",
};

static const char *const role_permission_lists[] = {
	"positive_item_type_permissions", "negative_item_type_permissions",
	"positive_upload_permissions", "negative_upload_permissions",
	"positive_build_trigger_permissions", "negative_build_trigger_permissions",
	"positive_search_index_permissions", "negative_search_index_permissions",
};

struct json_object *
td_role_json(const struct td_role *r)
{
	struct json_object *o = json_object_new_object(), *attrs = json_object_new_object();
	struct json_object *rel = json_object_new_object(), *inh = json_object_new_object();
	char id[24];
	size_t i;
	int all = r->id == TD_ROLE_ADMIN;

	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	json_object_object_add(attrs, "name", json_object_new_string(r->name));
	for (i = 0; i < sizeof(role_flags) / sizeof(role_flags[0]); i++)
		json_object_object_add(attrs, role_flags[i], json_object_new_boolean(all));
	json_object_object_add(attrs, "can_manage_access_tokens",
			       json_object_new_boolean(r->can_manage_access_tokens));
	json_object_object_add(attrs, "environments_access", json_object_new_string("all"));
	for (i = 0; i < sizeof(role_permission_lists) / sizeof(role_permission_lists[0]); i++)
		json_object_object_add(attrs, role_permission_lists[i], json_object_new_array());
	json_object_object_add(inh, "data", json_object_new_array());
	json_object_object_add(rel, "inherits_permissions_from", inh);
	json_object_object_add(o, "type", json_object_new_string("role"));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "attributes", attrs);
	json_object_object_add(o, "relationships", rel);
	return o;
}

static struct json_object *
module_id(const struct td_module *m)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "MOD-%04lld", (long long)m->id);
	return json_object_new_string(buf);
}

struct json_object *
td_module_ref_json(const struct td_module *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", module_id(m));
	json_object_object_add(o, "name", json_object_new_string(m->name));
	return o;
}

struct json_object *
td_module_json(const struct td_module *m)
{
	struct json_object *o = td_module_ref_json(m), *types = json_object_new_array();
	struct json_object *settings = json_object_new_object(), *filters = json_object_new_object();
	struct json_object *buyers = json_object_new_array();

	json_object_object_add(o, "description", json_object_new_string(m->description));
	json_object_object_add(o, "code", json_object_new_string(m->code));
	json_object_array_add(types, json_object_new_string("Vendor"));
	json_object_array_add(types, json_object_new_string("Client"));
	json_object_array_add(types, json_object_new_string("Operations"));
	json_object_object_add(o, "accountTypes", types);
	json_object_object_add(settings, "sharedAccount", json_object_new_boolean(1));
	json_object_object_add(settings, "configurable", json_object_new_boolean(1));
	json_object_object_add(settings, "default", json_object_new_boolean(1));
	json_object_object_add(settings, "paid", json_object_new_boolean(0));
	json_object_object_add(o, "settings", settings);
	json_object_array_add(buyers, json_object_new_string("selected"));
	json_object_array_add(buyers, json_object_new_string("all"));
	json_object_object_add(filters, "group.buyers", buyers);
	json_object_object_add(o, "filters", filters);
	return o;
}
