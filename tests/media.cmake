# tests/media.cmake - media/: the cmocka suite (which also runs `tipline strip`), and the
# libFuzzer harnesses.
tl_add_test(NAME test_media SOURCES test_media.c
            LIBS tl_media PkgConfig::EXIF PkgConfig::TURBOJPEG m TIMEOUT 600)
set_property(TEST test_media APPEND PROPERTY ENVIRONMENT "TL_MEDIA_CLI=$<TARGET_FILE:tipline>")

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
