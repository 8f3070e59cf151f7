/*
 * tokend's command line. Nothing secret is ever taken from argv: keys and
 * passwords come from files named in the configuration or the environment.
 */
#include <stdio.h>
#include <string.h>

#include "tokend/api_admin.h"
#include "tokend/config.h"
#include "tokend/log.h"
#include "tokend/server.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: tokend serve [--config FILE]\n"
		"       tokend check-config [--config FILE]\n"
		"       tokend version\n"
		"\n"
		"The config file is --config, else $TOKEND_CONFIG, else %s.\n"
		"Every key can be overridden by TOKEND_<KEY> in the environment.\n"
		"Started with no arguments on a listening socket (spawn-fcgi, mod_fcgid),\n"
		"tokend serves it.\n",
		TD_CONFIG_DEFAULT_PATH);
}

/* Parses "[--config FILE]" after the command; returns -1 on anything else. */
static int
parse_options(int argc, char **argv, const char **config)
{
	int i;

	*config = NULL;
	for (i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			*config = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			*config = argv[i] + 9;
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

int
main(int argc, char **argv)
{
	static struct td_config cfg;
	struct td_config_source src;
	const char *cmd = argc > 1 ? argv[1] : NULL, *cli_path;

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
	if (parse_options(argc, argv, &cli_path) != 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "check-config") == 0) {
		if (load(&cfg, &src, cli_path) != 0)
			return 1;
		td_config_print(&cfg, stdout);
		return 0;
	}
	if (strcmp(cmd, "serve") == 0) {
		if (load(&cfg, &src, cli_path) != 0)
			return 1;
		return td_server_run(&cfg, &src);
	}
	fprintf(stderr, "tokend: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
