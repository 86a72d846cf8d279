# tests/media.cmake - media/: the cmocka suite (which also runs `tipline strip`), and the
# libFuzzer harnesses.
tl_add_test(NAME test_media SOURCES test_media.c test_media_jpeg.c test_media_formats.c
            test_media_hostile.c test_media_phash.c test_media_corpus.c support/photogen.c
            LIBS tl_media PkgConfig::EXIF PkgConfig::TURBOJPEG m TIMEOUT 600)
set_property(TEST test_media APPEND PROPERTY ENVIRONMENT "TL_MEDIA_CLI=$<TARGET_FILE:tipline>")
# videos and HEIC made at test time (the ffmpeg command, libheif's encoder), checked by
# exiftool, ffprobe and ffmpeg's framemd5
tl_add_test(NAME test_media_video SOURCES test_media_video.c
            LIBS tl_media PkgConfig::EXIF PkgConfig::TURBOJPEG PkgConfig::HEIF m
            TIMEOUT 600)
set_property(TEST test_media_video APPEND PROPERTY ENVIRONMENT
             "TL_MEDIA_CLI=$<TARGET_FILE:tipline>"
             "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/media_video.lsan.supp")

set(TL_MEDIA_SEEDS ${TL_SHARED_DIR}/testdata/media)
foreach(f jpeg png webp gif)
  tl_add_fuzzer(NAME fuzz_media_strip_${f} SOURCES fuzz/fuzz_media_strip.c LIBS tl_media
                SEEDS ${TL_MEDIA_SEEDS} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_media_seeds SECONDS 6)
  if(TARGET fuzz_media_strip_${f})
    string(TOUPPER ${f} F)
    target_compile_definitions(fuzz_media_strip_${f} PRIVATE FUZZ_FORMAT=MEDIA_${F})
  endif()
endforeach()
tl_add_fuzzer(NAME fuzz_media_exif SOURCES fuzz/fuzz_media_exif.c LIBS tl_media
              SEEDS ${TL_MEDIA_SEEDS} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_media_seeds SECONDS 6)
tl_add_fuzzer(NAME fuzz_media_phash SOURCES fuzz/fuzz_media_phash.c LIBS tl_media
              SEEDS ${TL_MEDIA_SEEDS} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_media_seeds SECONDS 6)
# the library-backed readers (libavformat + libavcodec, libheif), seeded with files made
# by ffmpeg and libheif's encoder (tests/fuzz/corpus/fuzz_media_{video,heif}/) and the
# shared iPhone MOV and HEIC
foreach(f video heif)
  string(TOUPPER ${f} F)
  tl_add_fuzzer(NAME fuzz_media_${f} SOURCES fuzz/fuzz_media_container.c LIBS tl_media
                SEEDS ${TL_MEDIA_SEEDS}/mov_gps_iPhone_6.mov
                ${TL_MEDIA_SEEDS}/heic_gps_iPhone_11_Pro_Max.heic SECONDS 10)
  if(TARGET fuzz_media_${f})
    target_compile_definitions(fuzz_media_${f} PRIVATE FUZZ_FORMAT=MEDIA_${F})
  endif()
endforeach()
