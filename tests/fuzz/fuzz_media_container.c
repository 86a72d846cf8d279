/* tests/fuzz/fuzz_media_container.c - libFuzzer harness for the readers of outside
 * containers that go through libraries: MP4/MOV (libavformat, then the keyframe decode
 * of the hash) and HEIF (libheif), built once per format (FUZZ_FORMAT = MEDIA_VIDEO or
 * MEDIA_HEIF); inputs get that format's ftyp. Checks that a successful strip gives the
 * promised type (an MP4, a JPEG) whose facts read back with no position or time, and
 * that a failure returns no bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_limits lim = {
        .max_bytes = 1u << 20, .max_pixels = 1u << 20, .max_duration_s = 120, .max_streams = 8};
    struct media_facts f, g;
    struct tl_errinfo ei;
    unsigned char *out = NULL, *buf = NULL;
    size_t out_len = 0;
    uint64_t h;
    const unsigned char *in = data;
    if (media_detect(data, size) != FUZZ_FORMAT && size >= 12) {
        buf = malloc(size);
        if (!buf)
            return 0;
        memcpy(buf, data, size);
        memcpy(buf + 4, FUZZ_FORMAT == MEDIA_HEIF ? "ftypheic" : "ftypisom", 8);
        in = buf;
    }
    if (media_strip(in, size, &lim, &out, &out_len, &f, &ei) == TL_OK) {
        enum media_format want = FUZZ_FORMAT == MEDIA_HEIF ? MEDIA_JPEG : MEDIA_VIDEO;
        if (media_detect(out, out_len) != want)
            abort();
        if (media_facts_read(out, out_len, &lim, &g, &ei) != TL_OK || g.has_gps || g.has_time)
            abort();
        (void)media_phash(out, out_len, &lim, &h, &ei);
    } else if (out) {
        abort();
    }
    free(out);
    free(buf);
    return 0;
}
