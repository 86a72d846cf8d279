/* tests/fuzz/fuzz_media_exif.c - libFuzzer harness for the EXIF read (libexif behind
 * media_facts_read): a JPEG input is read as is, anything else becomes the payload of
 * an EXIF APP1 segment. Checks that every fact read is within its documented range. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct media_facts *f)
{
    if (f->has_gps && !(fabs(f->lat) <= 90 && fabs(f->lon) <= 180))
        abort();
    if (f->orientation < 0 || f->orientation > 8)
        abort();
    if (f->has_time && strlen(f->time_local) != 19)
        abort();
    if (f->has_offset && (f->offset_min < -14 * 60 - 59 || f->offset_min > 14 * 60 + 59))
        abort();
    char *json = NULL;
    if (media_facts_json(f, &json) != TL_OK)
        abort();
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct media_facts f;
    struct tl_errinfo ei;
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) {
        if (media_facts_read(data, size, NULL, &f, &ei) == TL_OK)
            check(&f);
        return 0;
    }
    size_t n = size > 65000 ? 65000 : size;
    unsigned char *j = malloc(n + 12);
    if (!j)
        return 0;
    memcpy(j, "\xFF\xD8\xFF\xE1", 4);
    j[4] = (unsigned char)((n + 8) >> 8);
    j[5] = (unsigned char)(n + 8);
    memcpy(j + 6, "Exif\0\0", 6);
    memcpy(j + 12, data, n);
    /* no frame follows: the walk fails after reading the EXIF, facts stay filled */
    if (media_facts_read(j, n + 12, NULL, &f, &ei) != TL_EPARSE)
        abort();
    check(&f);
    free(j);
    return 0;
}
