/*
 * Retiring a key: the keyring file without one of its lines. The file is
 * written anew beside the old one and renamed over it, so a crash leaves
 * either the old keyring or the new one, never half of it; the running
 * workers keep the key until SIGHUP or a restart. The new file keeps the
 * old one's owner and group: root retiring a key from the keyring of the
 * service user (the Debian package's /var/lib/tokend/keyring, owned by
 * tokend) must not leave a file that user can no longer read.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tokend/limits.h"
#include "tokend/core/sign.h"
#include "tokend/server/parse.h"

/* The key id a "<kid> <base64>" line starts with, 0 for any other line. */
static uint32_t
line_kid(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	long long kid;

	if (sp == NULL || td_parse_int64(line, (size_t)(sp - line), 1, UINT32_MAX, &kid) != 0)
		return 0;
	return (uint32_t)kid;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Syncs the directory holding path, so the rename itself is durable. */
static void
sync_dir(const char *path)
{
	char copy[TD_CONFIG_STR_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
td_keyring_retire(const char *path, uint32_t kid, char *err, size_t errlen)
{
	static char text[TD_KEYRING_FILE_MAX];
	static struct td_keyring kr;
	char tmp[TD_CONFIG_STR_MAX + 16];
	const char *p, *end, *nl;
	struct stat st;
	size_t len;
	int fd = -1, rc = -1;

	if (td_keyring_load(&kr, path, err, errlen) != 0)
		return -1;
	if (td_keyring_find(&kr, kid) == NULL) {
		snprintf(err, errlen, "keyring_file %s: no key %u", path, kid);
		goto done;
	}
	if (td_keyring_newest(&kr)->kid == kid) {
		snprintf(err, errlen, "key %u signs new tokens: add a newer one first "
			 "(tokend keys generate, then SIGHUP), then retire %u", kid, kid);
		goto done;
	}
	if (td_keyring_read_text(path, text, sizeof(text), &len, err, errlen) != 0)
		goto done;
	snprintf(tmp, sizeof(tmp), "%s.retire", path);
	(void)unlink(tmp);	/* a leftover of an interrupted retire */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || stat(path, &st) != 0)
		goto io_error;
	/* EPERM: not root, and the file is already ours (we could read it) */
	if (fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
		goto io_error;
	for (p = text, end = text + len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (line_kid(p, (size_t)(nl - p)) == kid)
			continue;
		if (write_all(fd, p, (size_t)(nl - p)) != 0 || write_all(fd, "\n", 1) != 0)
			goto io_error;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto io_error;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto io_error;
	sync_dir(path);
	rc = 0;
	goto done;
io_error:
	snprintf(err, errlen, "keyring_file %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
done:
	OPENSSL_cleanse(text, sizeof(text));
	td_keyring_wipe(&kr);
	return rc;
}
