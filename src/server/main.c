/*
 * tokend's command line. Nothing secret is ever taken from argv: keys and
 * passwords come from files named in the configuration or the environment,
 * and a new PAT is printed once on stdout, never logged.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tokend/api/handlers.h"
#include "tokend/api/admin.h"
#include "tokend/server/config.h"
#include "tokend/server/log.h"
#include "tokend/server/server.h"
#include "tokend/core/sign.h"
#include "tokend/store/store.h"

struct options {
	const char *config;
	const char *name;
	int full;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: tokend serve [--config FILE]\n"
		"       tokend check-config [--config FILE]\n"
		"       tokend keys generate [--config FILE]\n"
		"       tokend pat create --name NAME --full [--config FILE]\n"
		"       tokend version\n"
		"\n"
		"The config file is --config, else $TOKEND_CONFIG, else %s.\n"
		"Every key can be overridden by TOKEND_<KEY> in the environment.\n"
		"Started with no arguments on a listening socket (spawn-fcgi, mod_fcgid),\n"
		"tokend serves it.\n",
		TD_CONFIG_DEFAULT_PATH);
}

/* Options after the command words; -1 on anything unknown. */
static int
parse_options(int argc, char **argv, int first, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = first; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			o->config = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			o->config = argv[i] + 9;
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			o->name = argv[++i];
		else if (strcmp(argv[i], "--full") == 0)
			o->full = 1;
		else
			return -1;
	}
	return 0;
}

static int
load(struct td_config *cfg, struct td_config_source *src, const char *cli_path)
{
	char err[512];

	src->path = td_config_locate(cli_path, &src->explicit_path);
	if (td_config_load(cfg, src->path, src->explicit_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return -1;
	}
	return 0;
}

static int
load_keyring(const struct td_config *cfg, struct td_keyring *kr)
{
	char err[512];

	if (td_keyring_load(kr, cfg->keyring_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return -1;
	}
	return 0;
}

static int
cmd_check_config(struct td_config *cfg, struct td_keyring *kr)
{
	if (load_keyring(cfg, kr) != 0)
		return 1;
	td_config_print(cfg, stdout);
	printf("# keyring: %d key(s), signing with key id %u\n", kr->n, td_keyring_newest(kr)->kid);
	return 0;
}

static int
cmd_keys_generate(const struct td_config *cfg)
{
	char err[512];
	uint32_t kid;

	if (td_keyring_generate(cfg->keyring_file, &kid, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return 1;
	}
	fprintf(stderr, "tokend: key %u added to %s; it signs new tokens from the next start or SIGHUP\n",
		kid, cfg->keyring_file);
	return 0;
}

static int
cmd_pat_create(const struct td_config *cfg, struct td_keyring *kr, const struct options *o)
{
	static struct td_ctx ctx;	/* large: not on the stack */
	struct td_pat *pat = &ctx.scratch_pat;
	char token[TD_TOKEN_STR_MAX];
	int rc;

	if (o->name == NULL || !o->full) {
		fprintf(stderr, "tokend: pat create needs --name NAME and --full "
				"(narrower tokens: POST /v1/personal_access_tokens)\n");
		return 2;
	}
	if (strlen(o->name) == 0 || strlen(o->name) > TD_NAME_MAX) {
		fprintf(stderr, "tokend: --name must be 1..%d characters\n", TD_NAME_MAX);
		return 2;
	}
	if (load_keyring(cfg, kr) != 0 || (ctx.store = td_store_new(cfg)) == NULL)
		return 1;
	ctx.cfg = cfg;
	ctx.keyring = kr;
	memset(pat, 0, sizeof(*pat));
	snprintf(pat->name, sizeof(pat->name), "%s", o->name);
	pat->full = 1;
	pat->all_spaces = 1;
	pat->scopes = TD_SCOPE_ALL;
	snprintf(pat->created_by, sizeof(pat->created_by), "cli");
	rc = td_core_pat_issue_root(&ctx, pat, token, sizeof(token));
	td_store_free(ctx.store);
	if (rc != TD_OK) {
		fprintf(stderr, "tokend: cannot store the token: Redis unavailable (see redis_url)\n");
		return 1;
	}
	printf("%s\n", token);
	OPENSSL_cleanse(token, sizeof(token));
	return 0;
}

int
main(int argc, char **argv)
{
	static struct td_config cfg;
	static struct td_keyring kr;
	struct td_config_source src;
	const char *cmd = argc > 1 ? argv[1] : NULL;
	struct options o;
	int first = 2, rc;

	if (cmd == NULL && td_fd_is_listening_socket(0))
		cmd = "serve";
	if (cmd == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("tokend %s\n", TD_VERSION);
		return 0;
	}
	if ((strcmp(cmd, "keys") == 0 || strcmp(cmd, "pat") == 0) && argc > 2)
		first = 3;
	if (parse_options(argc, argv, first, &o) != 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "check-config") == 0 ||
	    (strcmp(cmd, "keys") == 0 && first == 3 && strcmp(argv[2], "generate") == 0) ||
	    (strcmp(cmd, "pat") == 0 && first == 3 && strcmp(argv[2], "create") == 0)) {
		if (load(&cfg, &src, o.config) != 0)
			return 1;
	} else {
		fprintf(stderr, "tokend: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "check-config") == 0)
		rc = cmd_check_config(&cfg, &kr);
	else if (strcmp(cmd, "keys") == 0)
		rc = cmd_keys_generate(&cfg);
	else if (strcmp(cmd, "pat") == 0)
		rc = cmd_pat_create(&cfg, &kr, &o);
	else if (load_keyring(&cfg, &kr) != 0)	/* serve: fail before forking anything */
		rc = 1;
	else {
		td_keyring_wipe(&kr);
		rc = td_server_run(&cfg, &src);
	}
	td_keyring_wipe(&kr);
	return rc;
}
