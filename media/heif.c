/* media/heif.c - HEIC/HEIF (what an iPhone sends when a photo goes "as a file"): the
 * facts from its Exif item, then a decode with libheif (its rotation and mirroring
 * applied, so the pixels are upright) and a JPEG written by libjpeg-turbo at high
 * quality. The pixels are re-encoded: HEIF carries its metadata in items beside an
 * HEVC bitstream that no browser or Telegram client shows, and a JPEG is what the
 * console, the hash and every viewer read. Nothing of the original container is kept. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "internal.h"
#include "libs.h"
#include "common/banned.h"

#define HEIF_JPEG_QUALITY 92

/* The Exif item: a 4-byte big-endian offset to the TIFF header, then the data. */
static void read_exif(const struct heif_image_handle *h, struct media_facts *f)
{
    heif_item_id id;
    if (media_lib.heif_image_handle_get_list_of_metadata_block_IDs(h, "Exif", &id, 1) < 1)
        return;
    size_t n = media_lib.heif_image_handle_get_metadata_size(h, id);
    if (n < 8 || n > (16u << 20))
        return;
    unsigned char *b = malloc(n);
    if (!b)
        return;
    struct heif_error e = media_lib.heif_image_handle_get_metadata(h, id, b);
    if (e.code == heif_error_Ok) {
        uint32_t off = media_be32(b);
        if (off <= n - 4)
            media_exif_read(b + 4 + off, n - 4 - off, f);
    }
    free(b);
}

int media_heif_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                    struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    struct heif_context *ctx = NULL;
    struct heif_image_handle *h = NULL;
    struct heif_image *img = NULL;
    tjhandle tj = NULL;
    unsigned char *jpeg = NULL;
    unsigned long jpeg_len = 0;
    int rc = media_libs_load(ei);
    if (rc)
        return rc;
    if (!(ctx = media_lib.heif_context_alloc()))
        return tl_errf(ei, TL_ENOMEM, "out of memory reading the HEIF");
    /* libheif sizes a grid's canvas from the grid item, not from the checked ispe, and
     * its only bound is this side limit: twice the side of a square of max_pixels keeps
     * a lying grid within 4 * max_pixels (panoramas of 2:1 and more still pass). */
    double side = 2 * sqrt((double)lim->max_pixels);
    media_lib.heif_context_set_maximum_image_size_limit(ctx, side > 32768 ? 32768 : (int)side);
    struct heif_error e = media_lib.heif_context_read_from_memory_without_copy(ctx, in, len, NULL);
    if (e.code != heif_error_Ok) {
        rc = tl_errf(ei, TL_EPARSE, "the HEIF container cannot be read");
        goto out;
    }
    e = media_lib.heif_context_get_primary_image_handle(ctx, &h);
    if (e.code != heif_error_Ok) {
        rc = tl_errf(ei, TL_EPARSE, "the HEIF has no primary image");
        goto out;
    }
    read_exif(h, f);
    /* The container's rotation (irot/imir) is applied by the decoder; the Exif
     * Orientation is only a copy of it, so the JPEG is upright with none. */
    f->orientation = 1;
    int w = media_lib.heif_image_handle_get_width(h),
        ht = media_lib.heif_image_handle_get_height(h);
    f->width = w;
    f->height = ht;
    if ((rc = media_check_pixels((uint64_t)(w > 0 ? w : 0), (uint64_t)(ht > 0 ? ht : 0), lim,
                                 ei)) != TL_OK)
        goto out;
    if (!out)
        goto out;
    e = media_lib.heif_decode_image(h, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB,
                                    NULL);
    if (e.code != heif_error_Ok) {
        rc = tl_errf(ei, TL_EPARSE, "the HEIF image cannot be decoded");
        goto out;
    }
    int stride = 0;
    const uint8_t *px =
        media_lib.heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    int iw = media_lib.heif_image_get_width(img, heif_channel_interleaved);
    int ih = media_lib.heif_image_get_height(img, heif_channel_interleaved);
    if (!px || iw <= 0 || ih <= 0 || stride < iw * 3) {
        rc = tl_errf(ei, TL_EPARSE, "the HEIF image decodes to no pixels");
        goto out;
    }
    f->width = iw;
    f->height = ih;
    tj = tjInitCompress();
    if (!tj) {
        rc = tl_errf(ei, TL_ENOMEM, "cannot create a JPEG encoder");
        goto out;
    }
    if (tjCompress2(tj, px, iw, stride, ih, TJPF_RGB, &jpeg, &jpeg_len, TJSAMP_420,
                    HEIF_JPEG_QUALITY, TJFLAG_ACCURATEDCT) != 0) {
        rc = tl_errf(ei, TL_ENOMEM, "the JPEG cannot be written: %s", tjGetErrorStr2(tj));
        goto out;
    }
    /* A re-encoded photo may be larger than the HEIF it came from. */
    out->max_total = out->total + (size_t)jpeg_len;
    rc = media_out_copy(out, jpeg, (size_t)jpeg_len);
out:
    tjFree(jpeg);
    if (tj)
        tjDestroy(tj);
    media_lib.heif_image_release(img);
    media_lib.heif_image_handle_release(h);
    media_lib.heif_context_free(ctx);
    return rc;
}
