/* media/libs.h - FFmpeg's libraries and libheif, opened on first use (media/ only).
 *
 * They bring 113 shared libraries with them (every codec FFmpeg can use): linked, each
 * tipline process loaded and relocated them at start, for every command, whether it
 * touched a video or not. Opened with dlopen() when the first video or HEIC comes, they
 * cost only the processes that need them. Call sites read media_lib.<function>. */
#ifndef TL_MEDIA_LIBS_H
#define TL_MEDIA_LIBS_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libswscale/swscale.h>
#include <libheif/heif.h>

#include "common/err.h"

#define MEDIA_LIB_AVFORMAT(X)                                                                      \
    X(av_codec_get_id)                                                                             \
    X(av_find_input_format)                                                                        \
    X(av_interleaved_write_frame)                                                                  \
    X(av_read_frame)                                                                               \
    X(av_stream_get_side_data)                                                                     \
    X(av_stream_new_side_data)                                                                     \
    X(av_write_trailer)                                                                            \
    X(avformat_alloc_context)                                                                      \
    X(avformat_alloc_output_context2)                                                              \
    X(avformat_close_input)                                                                        \
    X(avformat_find_stream_info)                                                                   \
    X(avformat_free_context)                                                                       \
    X(avformat_index_get_entries_count)                                                            \
    X(avformat_index_get_entry)                                                                    \
    X(avformat_new_stream)                                                                         \
    X(avformat_open_input)                                                                         \
    X(avformat_write_header)                                                                       \
    X(avio_alloc_context)                                                                          \
    X(avio_context_free)                                                                           \
    X(avio_flush)
#define MEDIA_LIB_AVCODEC(X)                                                                       \
    X(av_packet_alloc)                                                                             \
    X(av_packet_free)                                                                              \
    X(av_packet_rescale_ts)                                                                        \
    X(av_packet_unref)                                                                             \
    X(avcodec_alloc_context3)                                                                      \
    X(avcodec_find_decoder)                                                                        \
    X(avcodec_free_context)                                                                        \
    X(avcodec_open2)                                                                               \
    X(avcodec_parameters_copy)                                                                     \
    X(avcodec_parameters_to_context)                                                               \
    X(avcodec_receive_frame)                                                                       \
    X(avcodec_send_packet)
#define MEDIA_LIB_AVUTIL(X)                                                                        \
    X(av_dict_get)                                                                                 \
    X(av_display_rotation_get)                                                                     \
    X(av_frame_alloc)                                                                              \
    X(av_frame_free)                                                                               \
    X(av_free)                                                                                     \
    X(av_freep)                                                                                    \
    X(av_log_set_level)                                                                            \
    X(av_malloc)
#define MEDIA_LIB_SWSCALE(X)                                                                       \
    X(sws_getContext)                                                                              \
    X(sws_scale)                                                                                   \
    X(sws_freeContext)
#define MEDIA_LIB_HEIF(X)                                                                          \
    X(heif_context_alloc)                                                                          \
    X(heif_context_free)                                                                           \
    X(heif_context_get_primary_image_handle)                                                       \
    X(heif_context_read_from_memory_without_copy)                                                  \
    X(heif_context_set_maximum_image_size_limit)                                                   \
    X(heif_decode_image)                                                                           \
    X(heif_image_get_height)                                                                       \
    X(heif_image_get_plane_readonly)                                                               \
    X(heif_image_get_width)                                                                        \
    X(heif_image_handle_get_height)                                                                \
    X(heif_image_handle_get_list_of_metadata_block_IDs)                                            \
    X(heif_image_handle_get_metadata)                                                              \
    X(heif_image_handle_get_metadata_size)                                                         \
    X(heif_image_handle_get_width)                                                                 \
    X(heif_image_handle_release)                                                                   \
    X(heif_image_release)

#define MEDIA_LIB_MEMBER(f) __typeof__(f) *f;
struct media_libs {
    MEDIA_LIB_AVFORMAT(MEDIA_LIB_MEMBER)
    MEDIA_LIB_AVCODEC(MEDIA_LIB_MEMBER)
    MEDIA_LIB_AVUTIL(MEDIA_LIB_MEMBER)
    MEDIA_LIB_SWSCALE(MEDIA_LIB_MEMBER)
    MEDIA_LIB_HEIF(MEDIA_LIB_MEMBER)
};
#undef MEDIA_LIB_MEMBER

/* Filled once by media_libs_load; read-only afterwards. */
extern struct media_libs media_lib;

/* Opens the libraries once (thread-safe; later calls are a load and a test). TL_OK, or
 * TL_EUNSUPPORTED with the library or symbol that is missing in ei. */
int media_libs_load(struct tl_errinfo *ei) TL_WUR;

#endif
