/* media/media.h - photo and video sanitizing: format detection from magic bytes, the
 * facts analysts need (GPS, capture time, orientation, size, duration), a lossless
 * metadata strip of JPEG/PNG/WebP/GIF, a packet-for-packet remux of MP4/MOV (FFmpeg's
 * libavformat, nothing decoded), HEIC/HEIF decoded and written as an upright JPEG
 * (libheif, libjpeg-turbo), and a 64-bit perceptual hash for near-duplicate photos and
 * videos (of the first keyframe).
 *
 * A pure library: bytes in, bytes out; no files, no database, no network. The
 * original bytes are never copied anywhere but into the returned sanitized buffer,
 * so the caller decides alone what persists (only the output, by design).
 *
 * Every function treats its input as hostile: every length field is checked
 * against the buffer, the pixel count of the header is checked against
 * media_limits before anything is decoded, and memory use is bounded by the
 * input size (strip) or by max_pixels/64 (hash).
 *
 * PNG and WebP orientation: an Orientation of 2..8 from their EXIF (eXIf, EXIF) comes
 * back as an EXIF holding only IFD0 Orientation (after IHDR; last, with the VP8X flag).
 *
 * JPEG orientation: the stripped JPEG keeps its entropy-coded data byte for
 * byte (decoded pixels identical to the original) and, when the original's
 * Orientation is 2..8, carries a minimal EXIF APP1 holding only IFD0
 * Orientation, so viewers still show it upright. A lossless rotation was not
 * chosen because it changes the pixels, needs MCU-aligned sizes (or trims
 * edges) and costs a full entropy re-encode.
 *
 * ICC profiles (JPEG APP2, WebP ICCP) are kept only when RGB or grey, at most 4 MiB, and
 * made of colorimetric tags alone (desc, cprt, wtpt, bkpt, r/g/bXYZ, r/g/b/kTRC,
 * chad, chrm, cicp, A2Bn/B2An): the standard sRGB/Display P3 profiles phones embed.
 * Their device manufacturer, model, creator and profile ID header fields are zeroed.
 * Any profile with device or measurement descriptions (dmnd, dmdd, meas, tech, vued...)
 * or private tags is dropped; the picture then renders as sRGB. A JPEG profile cut over
 * several APP2 segments is judged and kept whole (reassembled by sequence number, cut
 * again where it was cut), or dropped whole when a part is missing or repeated (two
 * profiles). PNG iCCP is dropped
 * (PNG keeps sRGB/gAMA/cHRM/cICP instead).
 *
 * Video (MP4, MOV, 3GP; Telegram's video notes): the facts come from the container
 * (udta (c)xyz and Apple's com.apple.quicktime.location.ISO6709 for the position, Apple's
 * creationdate or mvhd's creation time, the duration, the display matrix) before
 * anything else; the limits (bytes, duration, tracks, pixels) are checked from the
 * header before a packet is read. The copy is an MP4 holding only the video and audio
 * tracks, their packets byte for byte, the display matrix (rotation kept), and no
 * metadata: udta, meta keys, XMP, chapters, cover images, data tracks (GoPro GPMF and
 * other telemetry), timecode tracks are gone and every creation time is zero. Audio is
 * kept by default: engines, shots and explosions are evidence analysts ask for, and the
 * advice to reporters is to film without sound; drop_audio removes it. Matroska, WebM
 * and AVI are refused. */
#ifndef TL_MEDIA_H
#define TL_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Never renumbered; append. */
enum media_format {
    MEDIA_UNKNOWN = 0,
    MEDIA_JPEG = 1,
    MEDIA_PNG = 2,
    MEDIA_WEBP = 3,
    MEDIA_GIF = 4,
    MEDIA_HEIF = 5,  /* HEIC/HEIF/AVIF (ISO-BMFF image brands) */
    MEDIA_TIFF = 6,  /* TIFF and TIFF-based RAW (DNG, NEF, ARW, CR2...) */
    MEDIA_RAW = 7,   /* non-TIFF camera RAW (CR3, RAF, ORF, RW2) */
    MEDIA_VIDEO = 8, /* MP4/MOV/3GP, Matroska/WebM, AVI */
    MEDIA_BMP = 9,
    MEDIA_PDF = 10,
};

/* Detects the format from the leading bytes only (never a name or claimed MIME). */
enum media_format media_detect(const unsigned char *buf, size_t len);
/* Static strings, never NULL: "jpeg", "png", ... / "image/jpeg", ...
 * ("application/octet-stream" for formats without a safe MIME). */
const char *media_format_name(enum media_format f);
const char *media_format_mime(enum media_format f);

/* Facts read from the photo. Flags say which fields are valid. */
struct media_facts {
    enum media_format format;
    int has_gps;     /* 0 also when the GPS IFD holds exactly 0,0 (a phone without a fix) */
    double lat, lon; /* degrees, WGS84, south/west negative */
    int has_alt;
    double alt; /* metres above sea level (negative below) */
    int has_hpe;
    double hpe_m; /* GPSHPositioningError, metres */
    int has_time;
    char time_local[20]; /* DateTimeOriginal "YYYY-MM-DDTHH:MM:SS", camera's local time */
    int has_offset;
    int offset_min;        /* OffsetTimeOriginal, minutes east of UTC */
    int orientation;       /* EXIF Orientation 1..8, 0 unknown/absent */
    int width, height;     /* from the image header, 0 if unknown */
    long long duration_ms; /* videos: from the container header, 0 unknown */
    int rotation;          /* videos: clockwise degrees of the display matrix (0/90/180/270);
                            * orientation then holds the EXIF equivalent (1, 6, 3, 8) */
};

/* 0 in a field means the default below. */
struct media_limits {
    size_t max_bytes;        /* input size; default 50 MiB */
    uint64_t max_pixels;     /* width*height from the header; default 100 megapixels */
    unsigned max_duration_s; /* videos; default 600 s */
    unsigned max_streams;    /* videos: tracks in the container; default 16 */
    int drop_audio;          /* videos: 1 removes the audio track (an option, not a limit) */
};
#define MEDIA_DEFAULT_MAX_BYTES (50u << 20)
#define MEDIA_DEFAULT_MAX_PIXELS (100ull * 1000 * 1000)
#define MEDIA_DEFAULT_MAX_DURATION_S 600u
#define MEDIA_DEFAULT_MAX_STREAMS 16u

/* Reads the facts without stripping. facts is cleared first, then filled as the file is
 * walked: on TL_EPARSE it keeps what was read before the damage (e.g. the EXIF of a JPEG
 * whose image data is missing), so callers may still show it. TL_EUNSUPPORTED for
 * formats other than JPEG/PNG/WebP/GIF, TL_EPARSE when the container is unreadable,
 * TL_ETOOBIG over a limit. limits may be NULL (defaults). A JPEG is walked only up to
 * its first scan, so this is cheap whatever the file size. */
int media_facts_read(const unsigned char *in, size_t len, const struct media_limits *limits,
                     struct media_facts *facts, struct tl_errinfo *ei) TL_WUR;

/* Reads the facts (facts may be NULL; as media_facts_read), then writes a sanitized copy into *out
 * (the caller owns it: free with free(); *out is NULL and *out_len 0 on error). The copy is of
 * the same format, except HEIF which becomes a JPEG and MOV which becomes an MP4: read the
 * output's type with media_detect (video/mp4 for a video). Errors: TL_EUNSUPPORTED with a reason
 * fit to show the reporter in ei->msg (e.g. "camera RAW files cannot be cleaned; send it as a
 * photo, not as a file"), TL_EPARSE for malformed or truncated files, TL_ETOOBIG over a limit,
 * TL_ENOMEM. */
int media_strip(const unsigned char *in, size_t len, const struct media_limits *limits,
                unsigned char **out, size_t *out_len, struct media_facts *facts,
                struct tl_errinfo *ei) TL_WUR;

/* 64-bit DCT perceptual hash of a JPEG (decoded with libjpeg-turbo at 1/8 scale, greyscale,
 * turned upright by its EXIF Orientation), or of an MP4/MOV's first keyframe (decoded with
 * libavcodec, one thread, turned upright by its display matrix). Compare with media_hamming:
 * <= 8 near-duplicate (quality-50 recompression, half size), > 16 distinct.
 * The pixel limit is checked from the header before decoding. Memory: the 1/8 image
 * (width*height/64 bytes) plus libjpeg-turbo's own state, which for a progressive JPEG
 * holds every coefficient (about 2-6 bytes per pixel): pass a max_pixels that fits the
 * server (a 12 MP progressive photo needs about 36 MB). Progressive files with absurd
 * scan counts are refused (TJFLAG_LIMITSCANS). Thread-safe; no shared state.
 * TL_EUNSUPPORTED for other input, TL_EPARSE for corrupt data (warnings included). */
int media_phash(const unsigned char *jpeg, size_t len, const struct media_limits *limits,
                uint64_t *hash, struct tl_errinfo *ei) TL_WUR;
/* The same, and when the picture sits in a frame of flat bands on two opposite sides (a
 * phone screenshot's background, status bar and toolbar) the hash of the picture inside
 * (*inner, *has_inner 1; else 0, 0): a screenshot's inner hash is near its photo's hash. */
int media_phash_framed(const unsigned char *jpeg, size_t len, const struct media_limits *limits,
                       uint64_t *hash, uint64_t *inner, int *has_inner,
                       struct tl_errinfo *ei) TL_WUR;
int media_hamming(uint64_t a, uint64_t b);

/* The near-duplicate search in memory (mih.c): a multi-index hash of perceptual hashes,
 * exact for k <= MEDIA_MIH_MAX_K (every stored hash within k bits, no other). Not
 * thread-safe: a caller sharing one between threads locks it (readers may share). */
#define MEDIA_MIH_MAX_K 14
struct media_mih;
struct media_mih_hit {
    long long id; /* as added; an id added with two hashes may come twice */
    int distance; /* bits */
};
/* A new empty index in *out (NULL on error); free with media_mih_free. */
int media_mih_new(struct media_mih **out) TL_WUR;
void media_mih_free(struct media_mih *m);
/* Adds hash h of id (the same pair twice is found twice). TL_ENOMEM. */
int media_mih_add(struct media_mih *m, uint64_t h, long long id) TL_WUR;
/* Gives back the room growth left unused (after a bulk load). TL_ENOMEM leaves it as is. */
int media_mih_compact(struct media_mih *m) TL_WUR;
/* The stored hashes within k (0..MEDIA_MIH_MAX_K) bits of h: the first max in out, in no
 * order; returns how many there are (more than max: the rest were not written). */
size_t media_mih_query(const struct media_mih *m, uint64_t h, int k, struct media_mih_hit *out,
                       size_t max);
size_t media_mih_count(const struct media_mih *m); /* hashes added */
size_t media_mih_bytes(const struct media_mih *m); /* memory held */
/* The room grown buckets left behind (part of media_mih_bytes), which media_mih_compact
 * or a fresh index gives back. */
size_t media_mih_spare_bytes(const struct media_mih *m);

/* Formats facts as one JSON object (what `tipline strip --info` prints):
 * {"format":"jpeg","mime":"image/jpeg","width":W,"height":H,"orientation":N,
 *  "gps":{"lat":..,"lon":..,"alt":..,"hpe_m":..}|null,"time_local":"..."|null,
 *  "offset_min":N|null}, and for a video ,"duration_ms":N,"rotation":N before the brace.
 * Returns a new string in *json; free with free(). */
int media_facts_json(const struct media_facts *facts, char **json) TL_WUR;

#endif
