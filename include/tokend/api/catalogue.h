#ifndef TOKEND_API_CATALOGUE_H
#define TOKEND_API_CATALOGUE_H

#include <json-c/json.h>

#include "tokend/core/module.h"

/* A SoftwareOne module: {"id","name"} as inside a token, or the full
 * catalogue entry. */
struct json_object *td_module_ref_json(const struct td_module *m);
struct json_object *td_module_json(const struct td_module *m);

#endif
