/*
 * tokend's command line: one table of commands (cli.c parses, each
 * command's file runs it). Nothing secret is ever taken from argv.
 */
#ifndef TOKEND_CLI_H
#define TOKEND_CLI_H

#include "tokend/core/sign.h"
#include "tokend/server/config.h"
#include "tokend/server/worker.h"

#define CLI_ARGS_MAX 2

/* What a command line said, once parsed and its config loaded. */
struct cli {
	const char *command;		/* "keys retire", for messages */
	const char *config;		/* --config */
	const char *name;		/* --name */
	int full;			/* --full */
	int yes;			/* --yes */
	const char *args[CLI_ARGS_MAX];	/* positional arguments */
	int nargs;
	struct td_config cfg;
	struct td_config_source src;
	struct td_keyring kr;
};

/* Each command returns the process's exit status: 0, 1 (it failed), 2
 * (the command line was wrong). */
int td_cli_serve(struct cli *cli);
int td_cli_check_config(struct cli *cli);
int td_cli_keys_list(struct cli *cli);
int td_cli_keys_generate(struct cli *cli);
int td_cli_keys_retire(struct cli *cli);
int td_cli_pat_create(struct cli *cli);
int td_cli_pat_list(struct cli *cli);
int td_cli_pat_revoke(struct cli *cli);

/* Loads the keyring named by the configuration; prints why not. */
int td_cli_load_keyring(struct cli *cli);

/* A context with the store and keyring, for commands that read Redis. */
struct td_ctx;
int td_cli_ctx(struct cli *cli, struct td_ctx *ctx);

#endif
