/* tests/fuzz/fuzz_media_strip.c - libFuzzer harness for media_strip, built once per
 * format (FUZZ_FORMAT): inputs of another format get that format's magic bytes, so each
 * run explores one walker. Checks that a successful strip is idempotent (stripping the
 * output again gives the same bytes) and never grows the file by more than the
 * Orientation EXIF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void set_magic(unsigned char *p, size_t n)
{
    switch (FUZZ_FORMAT) {
    case MEDIA_JPEG:
        memcpy(p, "\xFF\xD8\xFF", n < 3 ? n : 3);
        break;
    case MEDIA_PNG:
        memcpy(p, "\x89PNG\r\n\x1a\n", n < 8 ? n : 8);
        break;
    case MEDIA_GIF:
        memcpy(p, "GIF89a", n < 6 ? n : 6);
        break;
    case MEDIA_WEBP:
        memcpy(p, "RIFF", n < 4 ? n : 4);
        if (n >= 12)
            memcpy(p + 8, "WEBP", 4);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_limits lim = {.max_bytes = 1u << 22, .max_pixels = 1u << 26};
    struct media_facts f;
    struct tl_errinfo ei;
    unsigned char *out = NULL, *again = NULL, *buf = NULL;
    size_t out_len, again_len;
    const unsigned char *in = data;
    if (media_detect(data, size) != FUZZ_FORMAT) {
        buf = malloc(size ? size : 1);
        if (!buf)
            return 0;
        memcpy(buf, data, size);
        set_magic(buf, size);
        in = buf;
    }
    if (media_strip(in, size, &lim, &out, &out_len, &f, &ei) == TL_OK) {
        if (out_len > size + 36)
            abort();
        if (media_strip(out, out_len, &lim, &again, &again_len, NULL, &ei) != TL_OK)
            abort();
        if (again_len != out_len || memcmp(again, out, out_len) != 0)
            abort();
    } else if (out) {
        abort();
    }
    free(again);
    free(out);
    free(buf);
    return 0;
}
