/* Configuration: file syntax, every value range-checked and named in the
 * error, environment overrides, listen modes, redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tokend/server/config.h"

static struct td_config cfg;
static char err[512];

static int
parse(const char *text)
{
	td_config_defaults(&cfg);
	err[0] = '\0';
	if (td_config_parse_text(&cfg, text, strlen(text), err, sizeof(err)) != 0)
		return -1;
	return td_config_finish(&cfg, err, sizeof(err));
}

static void
test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(cfg.listen_at.kind, TD_LISTEN_AUTO);
	assert_int_equal(cfg.body_max_bytes, 1048576);
	assert_int_equal(cfg.json_max_depth, 32);
	assert_int_equal(cfg.socket_mode, 0660);
	assert_true(cfg.workers >= 1);		/* 0 resolves to the core count */
	assert_true(cfg.workers == (int)sysconf(_SC_NPROCESSORS_ONLN));
	assert_string_equal(cfg.redis_url, "redis://127.0.0.1:6379/0");
}

static void
test_values_comments_quotes(void **state)
{
	(void)state;
	assert_int_equal(parse("# comment\n\n  workers = 3  \nlisten = \"127.0.0.1:9000\"\r\n"
			       "socket_mode = 600\naccess_log = off\nbody_max_bytes=0\n"), 0);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.listen_at.kind, TD_LISTEN_TCP);
	assert_string_equal(cfg.listen_at.host, "127.0.0.1");
	assert_int_equal(cfg.listen_at.port, 9000);
	assert_int_equal(cfg.socket_mode, 0600);
	assert_int_equal(cfg.access_log, 0);
	assert_int_equal(cfg.body_max_bytes, 0);
}

static void
test_listen_modes(void **state)
{
	(void)state;
	assert_int_equal(parse("listen = unix:/tmp/t.sock\n"), 0);
	assert_int_equal(cfg.listen_at.kind, TD_LISTEN_UNIX);
	assert_string_equal(cfg.listen_at.path, "/tmp/t.sock");
	assert_int_equal(parse("listen = /run/x.sock\n"), 0);
	assert_string_equal(cfg.listen_at.path, "/run/x.sock");
	assert_int_equal(parse("listen = [::1]:9001\n"), 0);
	assert_string_equal(cfg.listen_at.host, "::1");
	assert_int_equal(cfg.listen_at.port, 9001);
	assert_int_equal(parse("listen = stdin\n"), 0);
	assert_int_equal(cfg.listen_at.kind, TD_LISTEN_INHERIT);
}

static void
test_verify_listen(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_string_equal(cfg.verify_listen, "");	/* no verify pool unless asked */
	assert_int_equal(cfg.verify_workers, (int)sysconf(_SC_NPROCESSORS_ONLN));
	assert_int_equal(parse("listen = /run/a.sock\nverify_listen = unix:/run/v.sock\n"
			       "verify_workers = 3\n"), 0);
	assert_int_equal(cfg.verify_listen_at.kind, TD_LISTEN_UNIX);
	assert_string_equal(cfg.verify_listen_at.path, "/run/v.sock");
	assert_int_equal(cfg.verify_workers, 3);
	assert_int_equal(parse("listen = /run/a.sock\nverify_listen = 127.0.0.1:9000\n"), 0);
	assert_int_equal(cfg.verify_listen_at.kind, TD_LISTEN_TCP);
	assert_int_equal(cfg.verify_listen_at.port, 9000);
	/* a pool of its own: never fd 0, never the main pool's address */
	assert_int_equal(parse("verify_listen = stdin\n"), -1);
	assert_non_null(strstr(err, "verify_listen"));
	assert_int_equal(parse("verify_listen = auto\n"), -1);
	assert_int_equal(parse("listen = /run/a.sock\nverify_listen = unix:/run/a.sock\n"), -1);
	assert_non_null(strstr(err, "the same address as another listener"));
	assert_int_equal(parse("verify_listen = /run/tokend/tokend.sock\n"), -1);
	assert_int_equal(parse("listen = 127.0.0.1:9000\nverify_listen = [::1]:9000\n"), -1);
	assert_int_equal(parse("verify_workers = 257\n"), -1);
	assert_non_null(strstr(err, "verify_workers"));
}

/* Each bad value fails and the error names the key at fault. */
static void
test_invalid_values_are_named(void **state)
{
	static const struct {
		const char *text;
		const char *names;
	} cases[] = {
		{ "workers = -1\n", "workers" },
		{ "workers = 257\n", "workers" },
		{ "workers = 2x\n", "workers" },
		{ "workers = \n", "workers" },
		{ "worker_connections = 0\n", "worker_connections" },
		{ "body_max_bytes = 99999999999999999999\n", "body_max_bytes" },
		{ "json_max_depth = 0\n", "json_max_depth" },
		{ "socket_mode = 0999\n", "socket_mode" },
		{ "socket_mode = 01777\n", "socket_mode" },
		{ "access_log = maybe\n", "access_log" },
		{ "listen = 127.0.0.1:0\n", "listen" },
		{ "listen = 127.0.0.1:65536\n", "listen" },
		{ "listen = nohostport\n", "listen" },
		{ "listen = unix:\n", "listen" },
		{ "redis_url = http://x\n", "redis_url" },
		{ "redis_url = redis://h:99999/0\n", "redis_url" },
		{ "redis_url = redis://h:6379/16\n", "redis_url" },
		{ "redis_url = unix://relative\n", "redis_url" },
		{ "redis_connect_timeout_ms = 0\n", "redis_connect_timeout_ms" },
		{ "socket_owner = no-such-user-tokend\n", "socket_owner" },
		{ "redis_password_file = /nonexistent/tokend-pw\n", "/nonexistent/tokend-pw" },
		{ "nonsense = 1\n", "nonsense" },
		{ "workers = 1\nworkers = 2\n", "workers" },
		{ "just text\n", "line 1" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].text) == 0)
			fail_msg("accepted: %s", cases[i].text);
		if (strstr(err, cases[i].names) == NULL)
			fail_msg("error for '%s' does not name %s: %s", cases[i].text,
				 cases[i].names, err);
	}
}

static void
test_env_overrides_file(void **state)
{
	(void)state;
	td_config_defaults(&cfg);
	assert_int_equal(td_config_parse_text(&cfg, "workers = 3\n", 12, err, sizeof(err)), 0);
	setenv("TOKEND_WORKERS", "5", 1);
	setenv("TOKEND_ACCESS_LOG", "off", 1);
	assert_int_equal(td_config_apply_env(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.access_log, 0);
	setenv("TOKEND_WORKERS", "lots", 1);
	assert_int_not_equal(td_config_apply_env(&cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "TOKEND_WORKERS"));
	unsetenv("TOKEND_WORKERS");
	unsetenv("TOKEND_ACCESS_LOG");
}

static void
test_password_file_and_redaction(void **state)
{
	char path[] = "/tmp/tokend-test-pwXXXXXX", text[256], out[4096];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret-pw\n", 10), 10);
	close(fd);
	snprintf(text, sizeof(text),
		 "redis_password_file = %s\nredis_url = redis://:urlpass@127.0.0.1:6380/2\n", path);
	assert_int_equal(parse(text), 0);
	assert_string_equal(cfg.redis_password, "s3cret-pw");
	f = fmemopen(out, sizeof(out), "w");
	td_config_print(&cfg, f);
	fclose(f);
	assert_null(strstr(out, "s3cret-pw"));
	assert_null(strstr(out, "urlpass"));
	assert_non_null(strstr(out, "redis_url = \"redis://127.0.0.1:6380/2\"\t# "));
	assert_non_null(strstr(out, "credentials are set and left out"));
	assert_non_null(strstr(out, "\n# redis_password = (redacted)"));
	assert_non_null(strstr(out, "workers = "));
	unlink(path);
}

/* check-config's output is a config file that loads back to the same
 * effective values (secrets aside, which it leaves out). */
static void
test_printed_config_loads_back(void **state)
{
	static char out[8192], again[8192];
	FILE *f;

	(void)state;
	assert_int_equal(parse("workers = 3\nlisten = \"127.0.0.1:9000\" # tcp\n"
			       "socket_owner = \"\"\nverify_listen = /run/v#1.sock\n"
			       "access_log = off\nsocket_mode = 0600\n"), 0);
	assert_string_equal(cfg.verify_listen, "/run/v#1.sock");	/* '#' inside a value */
	f = fmemopen(out, sizeof(out), "w");
	td_config_print(&cfg, f);
	fclose(f);
	assert_int_equal(parse(out), 0);
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.listen_at.port, 9000);
	assert_int_equal(cfg.socket_mode, 0600);
	assert_int_equal(cfg.access_log, 0);
	assert_string_equal(cfg.verify_listen, "/run/v#1.sock");
	f = fmemopen(again, sizeof(again), "w");
	td_config_print(&cfg, f);
	fclose(f);
	assert_string_equal(out, again);
}

/* A trailing comment follows whitespace; every bad line is named at once. */
static void
test_comments_and_every_error(void **state)
{
	(void)state;
	assert_int_equal(parse("workers = 2 # two\nbody_max_bytes = 100\t# small\n"
			       "keyring_file = \"/k#1\"   # quoted keeps it\n"), 0);
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.body_max_bytes, 100);
	assert_string_equal(cfg.keyring_file, "/k#1");
	assert_int_equal(parse("workers = two\nnope = 1\nlisten = auto\njson_max_depth = 0\n"
			       "keyring_file = \"/k\" junk\n"), -1);
	assert_non_null(strstr(err, "line 1: invalid value for workers"));
	assert_non_null(strstr(err, "line 2: unknown key 'nope'"));
	assert_non_null(strstr(err, "line 4: invalid value for json_max_depth"));
	assert_non_null(strstr(err, "line 5: text after the quoted value of keyring_file"));
	assert_null(strstr(err, "line 3"));
}

static void
test_line_too_long(void **state)
{
	static char text[TD_CONFIG_LINE_MAX + 32];

	(void)state;
	memcpy(text, "listen = /", 10);
	memset(text + 10, 'a', TD_CONFIG_LINE_MAX);
	text[10 + TD_CONFIG_LINE_MAX] = '\0';
	assert_int_not_equal(parse(text), 0);
	assert_non_null(strstr(err, "line 1"));
}

static void
test_trusted_proxies(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(cfg.trusted_proxies.n, 0);		/* default: no peer speaks for another */
	assert_int_equal(parse("trusted_proxies = 10.0.0.0/8, 127.0.0.1 ,::1\n"), 0);
	assert_int_equal(cfg.trusted_proxies.n, 3);
	assert_int_equal(cfg.trusted_proxies.r[1].bits, 128);
	assert_int_equal(parse("trusted_proxies = 10.0.0.1/8\n"), -1);
	assert_non_null(strstr(err, "trusted_proxies"));
	assert_int_equal(parse("trusted_proxies = 10.0.0.0/8,\n"), -1);
	assert_int_equal(parse("trusted_proxies = fe80::1%eth0\n"), -1);
	setenv("TOKEND_TRUSTED_PROXIES", "192.168.0.0/16", 1);
	td_config_defaults(&cfg);
	assert_int_equal(td_config_apply_env(&cfg, err, sizeof(err)), 0);
	assert_int_equal(td_config_finish(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.trusted_proxies.n, 1);
	unsetenv("TOKEND_TRUSTED_PROXIES");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_comments_quotes),
		cmocka_unit_test(test_listen_modes),
		cmocka_unit_test(test_verify_listen),
		cmocka_unit_test(test_invalid_values_are_named),
		cmocka_unit_test(test_env_overrides_file),
		cmocka_unit_test(test_password_file_and_redaction),
		cmocka_unit_test(test_printed_config_loads_back),
		cmocka_unit_test(test_comments_and_every_error),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_trusted_proxies),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
