/*
 * The floor tokend's verify path is measured against: a minimal libfcgi
 * responder in the same architecture (nginx → FastCGI over a Unix socket).
 *   floor const SOCKET    answers a constant 200 JSON
 *   floor hmac SOCKET     also does one HMAC-SHA256 and one Redis HGETALL
 *                         per request (REDIS_URL_PATH: Redis's Unix socket)
 * FLOOR_PROCS processes (default 2, tokend's worker count in make bench) each
 * run FLOOR_THREADS threads (default 64) of blocking FCGX_Accept_r loops.
 * Threads accept without a lock: Linux accept(2) is safe to call from many
 * threads, and libfcgi's example mutex would be held by a thread waiting for
 * the next request on an nginx kept-alive connection, serialising everything.
 * Enough threads per process that every kept connection has one: the classic
 * model's price (a thread per connection) is paid here, not measured away.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

enum { MAX_PROCS = 64, MAX_THREADS = 1024 };

static int listen_fd;
static int do_hmac;
static const char *redis_path;

static const char reply[] =
	"Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
	"Content-Length: 12\r\n\r\n{\"valid\":1}\n";

static void *
serve(void *arg)
{
	static const unsigned char key[32] = { 1, 2, 3 };
	unsigned char mac[32], msg[53] = { 1 };
	unsigned int len;
	redisContext *redis = NULL;
	redisReply *r;
	FCGX_Request req;

	(void)arg;
	if (do_hmac && ((redis = redisConnectUnix(redis_path)) == NULL || redis->err)) {
		fprintf(stderr, "floor: cannot reach redis at %s\n", redis_path);
		exit(1);
	}
	FCGX_InitRequest(&req, listen_fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		if (do_hmac) {
			HMAC(EVP_sha256(), key, sizeof(key), msg, sizeof(msg), mac, &len);
			msg[1] = mac[0];
			r = redisCommand(redis, "HGETALL {s:1}:t:1");
			freeReplyObject(r);
		}
		FCGX_PutStr(reply, sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return NULL;
}

static int
env_int(const char *name, int fallback, int max)
{
	const char *v = getenv(name);
	int n = v ? atoi(v) : fallback;

	return n >= 1 && n <= max ? n : fallback;
}

static void
run_threads(int threads)
{
	pthread_t t[MAX_THREADS];
	int i;

	/* die with the parent, whatever the dispositions we were started with */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGTERM, SIG_DFL);
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, serve, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	_exit(0);
}

static void
stop(int sig)
{
	(void)sig;
	_exit(0);	/* the children follow: PR_SET_PDEATHSIG */
}

int
main(int argc, char **argv)
{
	int procs = env_int("FLOOR_PROCS", 2, MAX_PROCS);
	int threads = env_int("FLOOR_THREADS", 64, MAX_THREADS);
	int i;

	if (argc != 3 || (strcmp(argv[1], "const") != 0 && strcmp(argv[1], "hmac") != 0)) {
		fprintf(stderr, "usage: floor const|hmac SOCKET   (hmac: REDIS_URL_PATH=/redis.sock)\n");
		return 2;
	}
	do_hmac = strcmp(argv[1], "hmac") == 0;
	redis_path = getenv("REDIS_URL_PATH");
	if (do_hmac && redis_path == NULL)
		return 2;
	FCGX_Init();
	listen_fd = FCGX_OpenSocket(argv[2], 1024);
	if (listen_fd < 0)
		return 1;
	signal(SIGTERM, stop);
	signal(SIGINT, stop);
	for (i = 0; i < procs; i++)
		if (fork() == 0)
			run_threads(threads);
	while (wait(NULL) > 0)
		;
	return 0;
}
