/* tests/fuzz/fuzz_media_phash.c - libFuzzer harness for media_phash (header walk, the
 * pixel limit, the 1/8-scaled libjpeg-turbo decode, the 32x32 DCT). Inputs that are not
 * JPEG get the JPEG magic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_limits lim = {.max_bytes = 1u << 22, .max_pixels = 1u << 22};
    struct tl_errinfo ei;
    uint64_t h;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (size >= 3)
        memcpy(buf, "\xFF\xD8\xFF", 3);
    int rc = media_phash(buf, size, &lim, &h, &ei);
    if (rc != TL_OK && h != 0)
        abort();
    free(buf);
    return 0;
}
