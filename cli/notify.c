/* cli/notify.c - systemd's service notifications for Type=notify units
 * (deploy/tipline-bot.service): READY=1 once the process serves, WATCHDOG=1 from its
 * main loop (WatchdogSec= restarts a process whose loop hangs), RELOADING=1 around a
 * SIGHUP reload and STOPPING=1 on the way out. Through libsystemd's sd_notify, which
 * writes to $NOTIFY_SOCKET and does nothing when it is unset; without libsystemd at
 * build time, nothing at all. */
#include "cli.h"

#ifdef TL_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/banned.h"

void cli_notify(const char *state)
{
#ifdef TL_HAVE_SYSTEMD
    (void)sd_notify(0, state);
#else
    (void)state;
#endif
}
