/*
 * The supervisor: opens (or inherits) the listening socket, starts the
 * workers, replaces any that die, and handles the signals:
 *   SIGTERM/SIGINT  workers finish in-flight requests, then all exit 0
 *   SIGHUP          configuration re-read and checked; workers reload it in
 *                   place between requests, so no connection is dropped
 */
#ifndef TOKEND_SERVER_H
#define TOKEND_SERVER_H

#include "tokend/server/config.h"
#include "tokend/server/worker.h"

int td_server_run(struct td_config *cfg, const struct td_config_source *src);

/* 1 when fd is a listening socket (spawn-fcgi and mod_fcgid pass one as fd 0). */
int td_fd_is_listening_socket(int fd);

#endif
