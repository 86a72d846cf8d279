/* tests/support/photogen.h - JPEG photos made by the tests and the dedup bench (TurboJPEG):
 * distinct synthetic scenes from a seed, and the variants a photo takes on its way
 * through channels: recompressed, resized, cropped, and shown inside a phone
 * screenshot. Deterministic for a seed. */
#ifndef TL_PHOTOGEN_H
#define TL_PHOTOGEN_H

#include <stddef.h>

/* An RGB image (3 bytes a pixel, rows packed). */
struct pg_image {
    int w, h;
    unsigned char *px;
};

/* A synthetic outdoor scene w x h for seed: sky, horizon, buildings, trees, smoke and
 * grain. Returns 0, -1 when out of memory. pg_image_release() it. */
int pg_scene(unsigned seed, int w, int h, struct pg_image *out);
void pg_image_release(struct pg_image *im);

/* Decodes a JPEG into RGB: 0, or -1 (not a JPEG TurboJPEG reads). */
int pg_decode(const unsigned char *jpeg, size_t len, struct pg_image *out);
/* Turns im upright by its EXIF Orientation (1..8; others leave it): 0, or -1. */
int pg_orient(struct pg_image *im, int orientation);
/* The inverse: replaces the upright im by the pixels a camera stores with Orientation
 * orientation (the sides swapped for 5..8): 0, or -1. */
int pg_disorient(struct pg_image *im, int orientation);
/* Encodes im at quality q (4:2:0): *jpeg new buffer (free()), 0 or -1. */
int pg_encode(const struct pg_image *im, int quality, unsigned char **jpeg, size_t *len);

enum pg_variant {
    PG_RECOMPRESS_50 = 0, /* decoded and encoded again at quality 50 */
    PG_HALF,              /* resized to half each way (box filter), quality 85 */
    PG_CROP_5,            /* 5 % of each dimension cut away, unevenly over the sides */
    PG_SCREENSHOT,        /* inside a portrait phone screenshot: dark frame, status bar with
                           * clock and icons, toolbar below; quality 85 */
    PG_NVARIANTS
};
extern const char *const pg_variant_name[PG_NVARIANTS];

/* The variant v of im as a JPEG (*jpeg new buffer, free()): 0, or -1. */
int pg_variant(const struct pg_image *im, enum pg_variant v, unsigned char **jpeg, size_t *len);

#endif
