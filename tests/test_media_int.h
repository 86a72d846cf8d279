/* tests/test_media_int.h - what test_media's files share: the temporary directory and
 * files in it, generated JPEGs, marker and byte searches, and exiftool as the
 * independent reader. */
#ifndef TL_TEST_MEDIA_INT_H
#define TL_TEST_MEDIA_INT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "fakebot/photos.h"
#include "support/testparts.h"

void tmed_write_file(const char *path, const unsigned char *p, size_t n);
char *tmed_tmp_path(const char *name);
extern const struct fx_exif tmed_std_exif;

/* A generated dirty JPEG (with trailer) and its clean source. */
struct gen_jpeg {
    unsigned char *clean, *dirty, *thumb;
    size_t clean_len, dirty_len, thumb_len;
};

void tmed_gen_jpeg_make(struct gen_jpeg *g, int w, int h, const struct fx_exif *x);
void tmed_gen_jpeg_free(struct gen_jpeg *g);
int tmed_contains(const unsigned char *p, size_t n, const char *needle);

/* Runs exiftool once on paths and fails on anything that could identify a reporter:
 * only file facts, JFIF density, Adobe colour transform, PNG/RIFF/GIF image structure
 * and IFD0:Orientation may remain. */
void tmed_exiftool_assert_clean(char **paths, int n);

/* exiftool -n -j on one file, as a parsed object (json_object_put). */
json_object *tmed_exiftool_read(const char *path);

/* A 2x2 RGB PNG with every kind of metadata chunk around the image. */
struct fx_bytes tmed_png_dirty(void);

/* Hash of a JPEG, its quality-50 recompression and its half-size version. */
void tmed_phash_variants(const unsigned char *j, size_t n, uint64_t hv[3]);

void tmed_phash_check_set(uint64_t (*hv)[3], int n, const char *what);

/* The tables of the parts' tests, run by main in test_media.c. */
extern const struct CMUnitTest tmed_jpeg_tests[];
extern const size_t tmed_jpeg_ntests;
extern const struct CMUnitTest tmed_formats_tests[];
extern const size_t tmed_formats_ntests;
extern const struct CMUnitTest tmed_hostile_tests[];
extern const size_t tmed_hostile_ntests;
extern const struct CMUnitTest tmed_phash_tests[];
extern const size_t tmed_phash_ntests;
extern const struct CMUnitTest tmed_corpus_tests[];
extern const size_t tmed_corpus_ntests;

#endif
