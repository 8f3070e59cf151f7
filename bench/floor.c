/*
 * The floor tokend's verify path is measured against: a minimal libfcgi
 * responder in the same architecture (nginx → FastCGI over a Unix socket).
 *   floor const SOCKET    answers a constant 200 JSON
 *   floor hmac SOCKET     also does one HMAC-SHA256 and one Redis HGETALL
 *                         per request (REDIS_URL_PATH: Redis's Unix socket)
 * Threads (FLOOR_THREADS, default 64) each run an FCGX_Accept_r loop, so
 * nginx's kept-alive connections never wait for a free responder.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static int listen_fd;
static int do_hmac;
static const char *redis_path;
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

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
	for (;;) {
		pthread_mutex_lock(&accept_lock);
		int rc = FCGX_Accept_r(&req);
		pthread_mutex_unlock(&accept_lock);
		if (rc < 0)
			break;
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

int
main(int argc, char **argv)
{
	int i, threads = getenv("FLOOR_THREADS") ? atoi(getenv("FLOOR_THREADS")) : 64;
	pthread_t *t;

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
	if (threads < 1 || threads > 1024)
		threads = 64;
	t = calloc((size_t)threads, sizeof(*t));
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, serve, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
