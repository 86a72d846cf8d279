/* geo/gaz_int.h - the gazetteer's index as it lies on disk and in memory, and the
 * builder that writes it; shared by gaz.c (lookups), gazbuild.c (the builder, also
 * used for the TSV of deploy/gazetteer/build.sh) and gazimport.c (GeoNames dumps).
 * Not for other folders.
 *
 * One image, little-endian, every section 8-byte aligned, offsets from its start:
 *   header | places[n_place] | names[n_name] | slots[n_slot] | filter | strings
 * A place is one settlement; a name is one searchable spelling of it (its Latin name,
 * its Ukrainian and Russian forms, transliterations), keyed by the folded Latin key
 * of geo_gaz_key(). Names are sorted by the hash of their key's consonants; slots is
 * an open-addressing table from that hash to the first name carrying it; the filter
 * has one bit per (first letter, first consonants) of every key. A file is mapped as
 * it is: loading costs one validation pass, no parsing. */
#ifndef TL_GEO_GAZ_INT_H
#define TL_GEO_GAZ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define GZ_MAGIC "TLGAZ02\n"
#define GZ_PRE_BITS (1u << 18)
#define GZ_KEY_MAX 48
/* names of one place kept at most (big cities have dozens of languages) */
#define GZ_NAMES_PER_PLACE 24

struct gz_hdr {
    char magic[8];
    uint32_t n_place, n_name, n_slot, str_bytes;
    uint32_t off_place, off_name, off_slot, off_pre, off_str;
    uint32_t total;
    uint32_t reserved[4];
};

struct gz_place {
    int32_t lat6, lon6; /* micro-degrees */
    uint32_t pop;
    uint32_t name;     /* string offset: the display name (Latin) */
    uint32_t oblast;   /* string offset: "" when unknown */
    uint32_t district; /* string offset: the admin2 name ("Izium Raion"), "" unknown */
    char cc[3];        /* ISO 3166 alpha-2, NUL-terminated */
    uint8_t ua_adm;    /* Ukraine's GeoNames admin1 code (1..27), 0 otherwise */
};

struct gz_name {
    uint32_t skel;  /* hash of the key's consonants (never 0) */
    uint32_t place; /* index into places */
    uint32_t key;   /* string offset of the key */
    uint8_t keylen;
    uint8_t pad[3];
};

/* A validated image (mapped file or heap bytes). */
struct gz_img {
    unsigned char *base;
    size_t len;
    int mapped; /* 1: munmap, 0: free */
    const struct gz_hdr *h;
    const struct gz_place *pl;
    const struct gz_name *nm;
    const uint32_t *slot;
    const uint8_t *pre;
    const char *str;
    struct gz_img *retired; /* images replaced by a reload, freed with the gazetteer */
};

/* Checks every offset and count of len bytes at base and fills img (which then
 * borrows base). TL_EPARSE when anything points outside. */
int gz_img_open(unsigned char *base, size_t len, int mapped, struct gz_img *img,
                struct tl_errinfo *ei) TL_WUR;

/* A gazetteer on an image in heap memory, which it takes (freed on error too); for the
 * fuzzer. */
struct geo_gaz;
int geo_gaz_from_image(unsigned char *img, size_t len, struct geo_gaz **out,
                       struct tl_errinfo *ei) TL_WUR;

/* Hash of a key's consonants (*skel_len gets their count) and the filter bit of its
 * first letter and first m consonants (-1 when it has fewer). In gazkey.c, as the
 * three below. */
uint32_t gz_skel_hash(const char *key, size_t n, size_t *skel_len);
long gz_pre_index(const char *key, size_t n, int m);
/* The Latin of one lower-case Cyrillic letter c: the Ukrainian national system when ukr,
 * else the Russian; initial selects the word-initial forms. "" for other letters. */
const char *gz_translit(uint32_t c, int ukr, int initial);
/* Folds a lower-case ASCII Latin spelling (n bytes) to its key in out (cap bytes,
 * NUL-terminated); returns the key's length. */
size_t gz_fold(const char *lat, size_t n, char *out, size_t cap);
/* Transliterates a UTF-8 word (Ukrainian system when ukr, else Russian) into out and
 * records in map (wl + 1 entries) the output length reached at each input byte, so the
 * Latin of a prefix of w is a prefix of out. Returns out's length. */
size_t gz_to_latin_map(const char *w, size_t wl, int ukr, char *out, size_t cap,
                       unsigned char *map);

/* Makes room for one more element in a growable array (*arr of n used, *cap allocated,
 * elements of size bytes; first: the capacity of the first allocation). TL_ENOMEM
 * leaves the array as it was. */
int gz_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first) TL_WUR;

/* The builder: places and their names in, one image out. */
struct gz_builder;
struct gz_builder *gz_builder_new(void);
void gz_builder_free(struct gz_builder *b);
/* Adds a settlement; admin1: GeoNames admin1 code ("07"), "" when unknown. display:
 * the name shown. Returns its index, or -1 on allocation failure. */
long gz_builder_place(struct gz_builder *b, const char *display, double lat, double lon,
                      unsigned long pop, const char cc[2], const char *admin1);
/* Adds one spelling of place (the last one added). Cyrillic spellings get the keys of
 * both transliterations; spellings whose key the place already has, that fold to
 * fewer than 3 letters, or past GZ_NAMES_PER_PLACE are dropped. TL_OK or TL_ENOMEM. */
int gz_builder_name(struct gz_builder *b, const char *w, size_t wlen) TL_WUR;
/* The same for the place of index place (names may come in any order). */
int gz_builder_name_at(struct gz_builder *b, size_t place, const char *w, size_t wlen) TL_WUR;
size_t gz_builder_places(const struct gz_builder *b);
/* Stores a string in the image once per call; its offset, UINT32_MAX when full. */
uint32_t gz_builder_str(struct gz_builder *b, const char *s);
/* Sets the district (an offset from gz_builder_str) of place. */
void gz_builder_district(struct gz_builder *b, size_t place, uint32_t off);
size_t gz_builder_names(const struct gz_builder *b);
/* The image of what was added; *out is heap memory (free with free()). */
int gz_builder_image(struct gz_builder *b, unsigned char **out, size_t *len) TL_WUR;

/* The TSV of deploy/gazetteer/build.sh (name, lat, lon, population, admin1, country)
 * in buf (NUL-terminated, changed in place) into b. A bad line fails the load: the
 * file is ours, so damage means a broken build. */
int gz_tsv_build(const char *path, char *buf, struct gz_builder *b, struct tl_errinfo *ei) TL_WUR;

/* The name of Ukraine's oblast with GeoNames admin1 code v (1..27), "" otherwise. */
const char *gz_ua_oblast(unsigned v);

#endif
