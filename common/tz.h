/* common/tz.h - an IANA time zone read from the system's tzdata (TZif files, RFC 8536),
 * so a zone can be asked about without touching the process's TZ: no setenv, no tzset,
 * no shared state. A loaded zone is immutable; any number of threads may read it.
 *
 * The citizens' clock: a time typed as "14:30" is a wall-clock time in the configured
 * zone (time_zone, Europe/Kyiv by default); tl_tz_from_local turns it into an instant
 * and tl_tz_offset turns an instant back into the wall clock. */
#ifndef TL_TZ_H
#define TL_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tl_tz;

/* Loads the zone named name ("Europe/Kyiv") from $TZDIR or /usr/share/zoneinfo; "UTC"
 * needs no file. Names are checked (letters, digits, "_+-/", no "..", not absolute).
 * *out: free with tl_tz_free(); NULL on error (TL_ECONFIG with the reason in ei). */
int tl_tz_load(const char *name, struct tl_tz **out, struct tl_errinfo *ei) TL_WUR;

/* Parses the bytes of a TZif file (version 1 to 4; at most 64 KiB, 4096 transitions,
 * 256 types; files with leap seconds are refused). The POSIX TZ string of the footer
 * (its M-form rules) answers for instants after the last transition; a footer it does
 * not understand leaves the last transition's offset in force.
 * *out: free with tl_tz_free(); NULL on error (TL_EPARSE, TL_ETOOBIG, TL_EUNSUPPORTED). */
int tl_tz_parse(const void *buf, size_t len, struct tl_tz **out, struct tl_errinfo *ei) TL_WUR;

void tl_tz_free(struct tl_tz *tz);

/* The zone's name as loaded ("UTC" for a NULL zone). */
const char *tl_tz_name(const struct tl_tz *tz);

/* Seconds east of UTC on the zone's wall clock at the instant utc (epoch seconds).
 * A NULL zone is UTC. */
long tl_tz_offset(const struct tl_tz *tz, int64_t utc);

/* The instant (epoch seconds) when the zone's wall clock read local, where local counts
 * wall-clock seconds as if the clock were UTC (days * 86400 + h * 3600 + m * 60).
 * A wall time that happened twice (the hour the clocks go back) is the first of the
 * two; one that never happened (the hour skipped in spring) is read with the offset in
 * force before the jump, as an unchanged clock would have shown it. */
int64_t tl_tz_from_local(const struct tl_tz *tz, int64_t local);

#endif
