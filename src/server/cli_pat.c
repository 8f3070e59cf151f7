/*
 * tokend pat: personal access tokens from the host's command line. create
 * prints the one value it makes, once; list and revoke never show one.
 * They act as the operator (core/operator.c), recorded as "cli".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "tokend/core/core.h"
#include "tokend/server/cli.h"
#include "tokend/server/parse.h"
#include "tokend/store/store.h"

static struct td_ctx ctx;		/* large: not on the stack */

int
td_cli_pat_create(struct cli *cli)
{
	struct td_pat *pat = &ctx.scratch_pat;
	char token[TD_TOKEN_STR_MAX];
	int rc;

	if (cli->name == NULL || !cli->full) {
		fprintf(stderr, "tokend: pat create needs --name NAME and --full "
				"(narrower tokens: POST /v1/personal_access_tokens)\n");
		return 2;
	}
	if (strlen(cli->name) == 0 || strlen(cli->name) > TD_NAME_MAX) {
		fprintf(stderr, "tokend: pat create: --name must be 1..%d characters\n", TD_NAME_MAX);
		return 2;
	}
	if (td_cli_ctx(cli, &ctx) != 0)
		return 1;
	memset(pat, 0, sizeof(*pat));
	snprintf(pat->name, sizeof(pat->name), "%s", cli->name);
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

/* Seconds or milliseconds since the epoch as ISO 8601, or "-" for 0. */
static void
print_time(long long t, int ms)
{
	char buf[32];
	time_t s = (time_t)(ms ? t / 1000 : t);
	struct tm tm;

	if (t <= 0 || gmtime_r(&s, &tm) == NULL) {
		printf("-");
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s", buf);
}

static void
print_scopes(const struct td_pat *p)
{
	const char *sep = "";
	unsigned read, write;
	int i;

	if (p->full) {
		printf("full");
		return;
	}
	for (i = 0; i < td_pat_resources_count; i++) {
		read = td_pat_resources[i].read;
		write = td_pat_resources[i].write;
		if ((p->scopes & (read | write)) == (read | write))
			printf("%s%s:write", sep, td_pat_resources[i].name);
		else if ((p->scopes & read) == read)
			printf("%s%s:read", sep, td_pat_resources[i].name);
		else
			continue;
		sep = ",";
	}
	if (*sep == '\0')
		printf("-");
}

static int
print_pat(const struct td_pat *p, void *arg)
{
	int i;

	(void)arg;
	printf("%" PRId64 "\t%s\t", p->id, p->name);
	if (p->all_spaces)
		printf("all");
	for (i = 0; !p->all_spaces && i < p->nspaces; i++)
		printf("%s%" PRId64, i ? "," : "", p->spaces[i]);
	printf("\t");
	print_scopes(p);
	printf("\t");
	print_time(p->expires_at, 0);
	printf("\t");
	print_time(p->last_used_ms, 1);
	printf("\t%s\n", p->created_by[0] ? p->created_by : "-");
	return 0;
}

int
td_cli_pat_list(struct cli *cli)
{
	struct td_call c;
	int rc;

	if (td_cli_ctx(cli, &ctx) != 0)
		return 1;
	td_core_begin_operator(&ctx, &c, TD_OP_PAT_LIST);
	printf("ID\tNAME\tSPACES\tSCOPES\tEXPIRES\tLAST_USED\tCREATED_BY\n");
	rc = td_core_pat_list(&c, print_pat, NULL);
	td_store_free(ctx.store);
	if (rc != TD_OK) {
		fprintf(stderr, "tokend: cannot read the tokens: Redis unavailable (see redis_url)\n");
		return 1;
	}
	return 0;
}

int
td_cli_pat_revoke(struct cli *cli)
{
	const struct td_pat *gone;
	struct td_call c;
	long long id;
	int rc;

	if (td_parse_int64(cli->args[0], strlen(cli->args[0]), 1, TD_ID_MAX, &id) != 0) {
		fprintf(stderr, "tokend: pat revoke: '%s' is not a token id (1..%lld)\n",
			cli->args[0], (long long)TD_ID_MAX);
		return 2;
	}
	if (td_cli_ctx(cli, &ctx) != 0)
		return 1;
	td_core_begin_operator(&ctx, &c, TD_OP_PAT_DELETE);
	c.resource = "personal_access_token";
	rc = td_core_pat_delete(&c, id, &gone);
	/* the workers' write barrier, for this process too: Redis sends the
	 * delete's invalidations to the workers' caches in the turn that ran
	 * it, so once one more round trip on its connection is answered (one
	 * Redis, Sentinel; on a cluster the last node this command used) no
	 * worker can accept the PAT from memory after "revoked" is printed */
	if (rc == TD_OK && td_store_ping(ctx.store) != 0)
		fprintf(stderr, "tokend: pat revoke: revoked, but Redis did not answer after it\n");
	td_store_free(ctx.store);
	if (rc == TD_ERR_NOT_FOUND) {
		fprintf(stderr, "tokend: pat revoke: no personal access token %lld\n", id);
		return 1;
	}
	if (rc != TD_OK) {
		fprintf(stderr, "tokend: pat revoke: %s\n",
			c.err.message ? c.err.message : "Redis unavailable (see redis_url)");
		return 1;
	}
	printf("revoked personal access token %lld (%s) and what it minted\n", id, gone->name);
	return 0;
}
