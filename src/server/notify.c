/*
 * sd_notify(3) for the supervisor: READY=1 once it serves, RELOADING=1 /
 * READY=1 around a SIGHUP, STOPPING=1 when it drains. libsystemd does the
 * protocol (a datagram to $NOTIFY_SOCKET) and does nothing without it; a
 * failed send is only logged, since the service itself is unaffected.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "tokend/server/log.h"
#include "tokend/server/notify.h"

static void
notify(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0)
		td_log_warn("sd_notify %s: %s", state, strerror(-rc));
}

void
td_notify_ready(void)
{
	notify("READY=1");
}

/* MONOTONIC_USEC: the reload's start, which systemd >= 253 requires with
 * RELOADING=1 (Type=notify-reload) and older versions ignore */
void
td_notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	notify(msg);
}

void
td_notify_stopping(void)
{
	notify("STOPPING=1");
}
