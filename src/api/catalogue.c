/*
 * The built-in catalogue as the SoftwareOne view shows it: module entries.
 * The core owns what a module grants (core/module.c); this file only
 * renders them. (DatoCMS roles: dato_roles.c.)
 */
#include <stdio.h>

#include "tokend/api/catalogue.h"

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
