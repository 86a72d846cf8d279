# tests/browser.cmake - the analysts' console in real headless Chromium (label db): the
# seed program writes reports the way the bot does (store_apply, a generated JPEG), and
# tests/browser/run.sh drives Debian's chromium with playwright-core from npm against
# `tipline web`. Screenshots: tests/browser/artifacts/ in the build tree. A missing
# chromium, node or node_modules fails the test with a message (deploy/setup.sh deps).
add_executable(tl_browser_seed ${CMAKE_CURRENT_LIST_DIR}/browser/seed.c)
target_include_directories(tl_browser_seed PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(tl_browser_seed PRIVATE tl_storage tl_media tl_testsupport PkgConfig::EXIF
                      PkgConfig::TURBOJPEG m)

if(TARGET tipline)
  add_test(NAME test_browser_console COMMAND ${CMAKE_CURRENT_LIST_DIR}/browser/run.sh)
  set_tests_properties(test_browser_console PROPERTIES
    FIXTURES_REQUIRED pg LABELS "db;browser" TIMEOUT 300
    ENVIRONMENT "${TL_TEST_ENV};TL_BROWSER_SEED=$<TARGET_FILE:tl_browser_seed>")
endif()

# The console's files without a browser: i18n completeness, CSP-safe markup (node --test).
add_test(NAME test_console_static COMMAND sh -c
  "command -v node >/dev/null || { echo 'test_console_static: node is missing (deploy/setup.sh deps)'; exit 1; }; exec node --test \"$0\""
  ${CMAKE_CURRENT_LIST_DIR}/browser/static.test.mjs)
set_tests_properties(test_console_static PROPERTIES LABELS unit TIMEOUT 60)
