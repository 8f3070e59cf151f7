// Validates an OpenAPI 3.1 document (docs/openapi.json) with
// @apidevtools/swagger-parser, as pinned in package-lock.json: the schema of
// OpenAPI 3.1 itself, and every $ref resolving. Prints the errors, exits 1.
//   node validate-openapi.cjs <file>
const SwaggerParser = require("@apidevtools/swagger-parser");

SwaggerParser.validate(process.argv[2]).then(
  (api) => console.log(`valid: OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths`),
  (err) => { console.error(err.message); process.exit(1); });
