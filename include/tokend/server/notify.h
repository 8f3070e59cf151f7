/*
 * The supervisor's state for systemd (Type=notify), one call per state.
 * Each is a no-op unless systemd set NOTIFY_SOCKET, so spawn-fcgi,
 * mod_fcgid and a shell start tokend as before. Only the supervisor calls
 * them: systemd accepts messages from the main process alone.
 */
#ifndef TOKEND_SERVER_NOTIFY_H
#define TOKEND_SERVER_NOTIFY_H

/* the listeners are open and the first workers forked */
void td_notify_ready(void);
/* SIGHUP taken: a reload begins (READY again when it is over) */
void td_notify_reloading(void);
/* SIGTERM or SIGINT taken: draining in-flight requests, then exit */
void td_notify_stopping(void);

#endif
