/*
 * tokend's command line: finds the command in one table, parses its options
 * with getopt_long, and names whatever it cannot take. Nothing secret is
 * ever taken from argv: keys and passwords come from files named in the
 * configuration or the environment, and a new PAT is printed once on
 * stdout, never logged.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokend/api/admin.h"
#include "tokend/server/cli.h"
#include "tokend/server/server.h"

enum {
	OPT_CONFIG = 1 << 0,
	OPT_NAME = 1 << 1,
	OPT_FULL = 1 << 2,
	OPT_YES = 1 << 3,
};

struct command {
	const char *words;		/* "keys retire" */
	const char *synopsis;		/* its arguments, for usage */
	const char *help;
	int nargs;			/* positional arguments it needs */
	unsigned opts;			/* OPT_* it takes besides --help, --version */
	int (*run)(struct cli *cli);
};

static const struct command commands[] = {
	{ "serve", "[--config FILE]", "run the supervisor and its workers", 0, OPT_CONFIG,
	  td_cli_serve },
	{ "check-config", "[--config FILE]",
	  "check the configuration and the keyring; print the effective values as a config file",
	  0, OPT_CONFIG, td_cli_check_config },
	{ "keys list", "[--config FILE]",
	  "the keyring's key ids, which one signs, and what each signs in Redis", 0, OPT_CONFIG,
	  td_cli_keys_list },
	{ "keys generate", "[--config FILE]", "append a new key; it signs from the next start or SIGHUP",
	  0, OPT_CONFIG, td_cli_keys_generate },
	{ "keys retire", "KID [--yes] [--config FILE]",
	  "remove a key: what it signed stops working (says how much first; --yes to do it)",
	  1, OPT_CONFIG | OPT_YES, td_cli_keys_retire },
	{ "pat create", "--name NAME --full [--config FILE]",
	  "make a personal access token for everything; its value is printed once", 0,
	  OPT_CONFIG | OPT_NAME | OPT_FULL, td_cli_pat_create },
	{ "pat list", "[--config FILE]", "every personal access token (never a value)", 0, OPT_CONFIG,
	  td_cli_pat_list },
	{ "pat revoke", "ID [--config FILE]", "delete a personal access token and what it minted", 1,
	  OPT_CONFIG, td_cli_pat_revoke },
	{ "version", "", "print the version", 0, 0, NULL },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "name", required_argument, NULL, 'n' },
	{ "full", no_argument, NULL, 'f' },
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  tokend %s%s%s\n", commands[i].words, *commands[i].synopsis ? " " : "",
			commands[i].synopsis);
	fprintf(out, "\nEvery command takes --help and --version.\n"
		     "The config file is --config, else $TOKEND_CONFIG, else %s.\n"
		     "Every key can be overridden by TOKEND_<KEY> in the environment.\n"
		     "Started with no arguments on a listening socket (spawn-fcgi, mod_fcgid),\n"
		     "tokend serves it.\n", TD_CONFIG_DEFAULT_PATH);
}

static void
command_usage(const struct command *cmd, FILE *out)
{
	fprintf(out, "usage: tokend %s%s%s\n  %s\n", cmd->words, *cmd->synopsis ? " " : "",
		cmd->synopsis, cmd->help);
}

/* The command argv names (one word, or two: "keys retire"); *used is how
 * many words it took. NULL when there is none, after saying why. */
static const struct command *
find_command(int argc, char **argv, int *used)
{
	size_t i, len = strlen(argv[1]);
	int group = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strncmp(commands[i].words, argv[1], len) != 0)
			continue;
		if (commands[i].words[len] == '\0') {
			*used = 1;
			return &commands[i];
		}
		if (commands[i].words[len] != ' ')
			continue;
		group = 1;
		if (argc > 2 && strcmp(commands[i].words + len + 1, argv[2]) == 0) {
			*used = 2;
			return &commands[i];
		}
	}
	if (!group) {
		fprintf(stderr, "tokend: unknown command '%s' (tokend --help lists them)\n", argv[1]);
		return NULL;
	}
	if (argc > 2 && argv[2][0] != '-')
		fprintf(stderr, "tokend: %s: unknown subcommand '%s'; one of:", argv[1], argv[2]);
	else
		fprintf(stderr, "tokend: %s needs a subcommand, one of:", argv[1]);
	for (i = 0; i < NCOMMANDS; i++)
		if (strncmp(commands[i].words, argv[1], len) == 0 && commands[i].words[len] == ' ')
			fprintf(stderr, " %s", commands[i].words + len + 1);
	fprintf(stderr, "\n");
	return NULL;
}

static int
option_bit(int c)
{
	switch (c) {
	case 'c': return OPT_CONFIG;
	case 'n': return OPT_NAME;
	case 'f': return OPT_FULL;
	case 'y': return OPT_YES;
	default: return 0;
	}
}

static const char *
option_name(int c)
{
	const struct option *o;

	for (o = long_options; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* Options and positional arguments after the command words; 0 to run, 1 to
 * exit 0 (--help, --version answered), -1 to exit 2 (said why). */
static int
parse_args(const struct command *cmd, int argc, char **argv, struct cli *cli)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:hV", long_options, NULL)) != -1) {
		if (c == 'h') {
			command_usage(cmd, stdout);
			return 1;
		}
		if (c == 'V') {
			printf("tokend %s\n", TD_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, c == ':' ? "tokend: %s: %s needs a value\n"
						 : "tokend: %s: unknown option '%s'\n",
				cmd->words, argv[optind - 1]);
			return -1;
		}
		if ((cmd->opts & (unsigned)option_bit(c)) == 0) {
			fprintf(stderr, "tokend: %s: --%s is not an option of this command\n",
				cmd->words, option_name(c));
			return -1;
		}
		if (c == 'c')
			cli->config = optarg;
		else if (c == 'n')
			cli->name = optarg;
		else if (c == 'f')
			cli->full = 1;
		else if (c == 'y')
			cli->yes = 1;
	}
	for (; optind < argc; optind++) {
		if (cli->nargs == cmd->nargs) {
			fprintf(stderr, "tokend: %s: unexpected argument '%s'\n", cmd->words,
				argv[optind]);
			return -1;
		}
		cli->args[cli->nargs++] = argv[optind];
	}
	if (cli->nargs < cmd->nargs) {
		fprintf(stderr, "tokend: %s: missing %.*s (usage: tokend %s %s)\n", cmd->words,
			(int)strcspn(cmd->synopsis, " "), cmd->synopsis, cmd->words, cmd->synopsis);
		return -1;
	}
	return 0;
}

static int
load_config(struct cli *cli)
{
	char err[1024];

	cli->src.path = td_config_locate(cli->config, &cli->src.explicit_path);
	if (td_config_load(&cli->cfg, cli->src.path, cli->src.explicit_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct cli cli;		/* large: not on the stack */
	const struct command *cmd;
	char *serve_argv[] = { argv[0], NULL };
	int used = 1, rc;

	if (argc == 1 && td_fd_is_listening_socket(0)) {
		argv = serve_argv;
		cmd = &commands[0];
		argc = 1;
		used = 0;
	} else if (argc == 1) {
		usage(stderr);
		return 2;
	} else if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
		   strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	} else if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("tokend %s\n", TD_VERSION);
		return 0;
	} else if ((cmd = find_command(argc, argv, &used)) == NULL) {
		return 2;
	}
	cli.command = cmd->words;
	/* getopt sees the command's own arguments, with argv[0] in front */
	argv[used] = argv[0];
	rc = parse_args(cmd, argc - used, argv + used, &cli);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (cmd->run == NULL) {
		printf("tokend %s\n", TD_VERSION);
		return 0;
	}
	if (load_config(&cli) != 0)
		return 1;
	rc = cmd->run(&cli);
	td_keyring_wipe(&cli.kr);
	return rc;
}
