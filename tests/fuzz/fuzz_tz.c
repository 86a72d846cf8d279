/* tests/fuzz/fuzz_tz.c - libFuzzer harness for tl_tz_parse (a TZif file is read from
 * the system, but its bytes are still parsed with bounds) and the conversions on
 * whatever parses: no overflow, and offsets stay within 26 hours. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/tz.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tl_tz *tz = NULL;
    if (tl_tz_parse(data, size, &tz, NULL) != TL_OK)
        return 0;
    int64_t t = size >= 8 ? (int64_t)data[0] << 32 | (int64_t)data[size - 1] << 8 : 0;
    static const int64_t probes[] = {INT64_MIN, -1, 0, 1774746000, 1792890000, INT64_MAX};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]) + 1; i++) {
        int64_t p = i < sizeof(probes) / sizeof(probes[0]) ? probes[i] : t;
        long off = tl_tz_offset(tz, p);
        if (off < -26 * 3600 || off > 26 * 3600)
            __builtin_trap();
        (void)tl_tz_from_local(tz, p);
    }
    tl_tz_free(tz);
    return 0;
}
