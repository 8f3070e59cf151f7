/*
 * tokend serve, check-config and keys: the commands that need the keyring
 * file. Key material is never printed; key ids and counts are.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tokend/core/core.h"
#include "tokend/server/cli.h"
#include "tokend/server/parse.h"
#include "tokend/server/server.h"
#include "tokend/store/store.h"

int
td_cli_load_keyring(struct cli *cli)
{
	char err[512];

	if (td_keyring_load(&cli->kr, cli->cfg.keyring_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return -1;
	}
	return 0;
}

int
td_cli_ctx(struct cli *cli, struct td_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	if (cli->kr.n == 0 && td_cli_load_keyring(cli) != 0)
		return -1;
	if ((ctx->store = td_store_new(&cli->cfg)) == NULL) {
		fprintf(stderr, "tokend: out of memory\n");
		return -1;
	}
	ctx->cfg = &cli->cfg;
	ctx->keyring = &cli->kr;
	return 0;
}

int
td_cli_serve(struct cli *cli)
{
	/* fail before forking anything: each worker loads the keyring itself */
	if (td_cli_load_keyring(cli) != 0)
		return 1;
	td_keyring_wipe(&cli->kr);
	return td_server_run(&cli->cfg, &cli->src);
}

int
td_cli_check_config(struct cli *cli)
{
	if (td_cli_load_keyring(cli) != 0)
		return 1;
	td_config_print(&cli->cfg, stdout);
	printf("# keyring: %d key(s), signing with key id %u\n", cli->kr.n,
	       td_keyring_newest(&cli->kr)->kid);
	return 0;
}

int
td_cli_keys_generate(struct cli *cli)
{
	char err[512];
	uint32_t kid;

	if (td_keyring_generate(cli->cfg.keyring_file, &kid, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return 1;
	}
	fprintf(stderr, "tokend: key %u added to %s; it signs new tokens from the next start or SIGHUP\n",
		kid, cli->cfg.keyring_file);
	return 0;
}

/* Fills u with every key of the keyring and what it signs; -1 when Redis
 * could not be read (u[].tokens then 0). */
static int
usage_of_keys(struct cli *cli, struct td_key_usage *u)
{
	static struct td_ctx ctx;	/* large: not on the stack */
	int i, rc;

	if (td_cli_ctx(cli, &ctx) != 0)
		return -2;
	for (i = 0; i < cli->kr.n; i++)
		u[i].kid = cli->kr.keys[i].kid;
	rc = td_core_key_usage(&ctx, u, cli->kr.n);
	td_store_free(ctx.store);
	return rc == TD_OK ? 0 : -1;
}

int
td_cli_keys_list(struct cli *cli)
{
	struct td_key_usage u[TD_KEYRING_MAX];
	int i, rc = usage_of_keys(cli, u);

	if (rc == -2)
		return 1;
	printf("KID\tROLE\tTOKENS\tPATS\n");
	for (i = 0; i < cli->kr.n; i++) {
		printf("%u\t%s\t", u[i].kid,
		       u[i].kid == td_keyring_newest(&cli->kr)->kid ? "signs" : "verifies");
		if (rc == 0)
			printf("%lld\t%lld\n", u[i].tokens, u[i].pats);
		else
			printf("?\t?\n");
	}
	if (rc != 0)
		fprintf(stderr, "tokend: Redis unavailable (see redis_url): what each key signs "
				"is not known\n");
	return 0;
}

int
td_cli_keys_retire(struct cli *cli)
{
	struct td_key_usage u[TD_KEYRING_MAX];
	char err[512];
	long long kid;
	int i, rc;

	if (td_parse_int64(cli->args[0], strlen(cli->args[0]), 1, UINT32_MAX, &kid) != 0) {
		fprintf(stderr, "tokend: keys retire: '%s' is not a key id (1..%u)\n", cli->args[0],
			UINT32_MAX);
		return 2;
	}
	if ((rc = usage_of_keys(cli, u)) == -2)
		return 1;
	if (td_keyring_newest(&cli->kr)->kid == (uint32_t)kid) {
		fprintf(stderr, "tokend: keys retire: key %lld signs new tokens: add a newer one "
				"first (tokend keys generate, then SIGHUP), then retire %lld\n", kid, kid);
		return 1;
	}
	for (i = 0; i < cli->kr.n && u[i].kid != (uint32_t)kid; i++)
		;
	if (i == cli->kr.n) {
		fprintf(stderr, "tokend: keys retire: no key %lld in %s\n", kid, cli->cfg.keyring_file);
		return 1;
	}
	if (rc == 0)
		fprintf(stderr, "tokend: retiring key %lld revokes %lld token(s) and %lld personal "
				"access token(s) it signed\n", kid, u[i].tokens, u[i].pats);
	else
		fprintf(stderr, "tokend: retiring key %lld revokes everything it signed "
				"(Redis unavailable: how much is not known)\n", kid);
	if (!cli->yes) {
		fprintf(stderr, "tokend: nothing changed; run again with --yes to retire it\n");
		return 1;
	}
	if (td_keyring_retire(cli->cfg.keyring_file, (uint32_t)kid, err, sizeof(err)) != 0) {
		fprintf(stderr, "tokend: %s\n", err);
		return 1;
	}
	fprintf(stderr, "tokend: key %lld retired; send SIGHUP to tokend (systemctl reload tokend) "
			"so the running workers drop it\n", kid);
	return 0;
}
