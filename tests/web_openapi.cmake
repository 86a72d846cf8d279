# tests/web_openapi.cmake - web/openapi.yaml is the API: it passes Redocly's linter, every
# route the server serves is in it (and nothing else), and every answer test_web received
# (recorded by tests/support/httprec.c into openapi/test_web.jsonl in the build tree) is
# valid against it (tests/openapi/check.mjs, ajv). Node and the npm modules come from
# deploy/setup.sh deps; without them these tests are skipped with a message.
set(TL_OPENAPI_NODE
  "command -v node >/dev/null || { echo 'SKIP: node is missing (deploy/setup.sh deps)'; exit 77; }; exec node \"$0\" \"$@\"")

add_test(NAME test_openapi_lint COMMAND ${CMAKE_CURRENT_LIST_DIR}/openapi/lint.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(test_openapi_lint PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)

add_executable(tl_openapi_routes ${CMAKE_CURRENT_LIST_DIR}/openapi/routes.c)
target_link_libraries(tl_openapi_routes PRIVATE tl_web)
add_test(NAME test_openapi_routes COMMAND sh -c "${TL_OPENAPI_NODE}"
         ${CMAKE_CURRENT_LIST_DIR}/openapi/check.mjs routes ${CMAKE_SOURCE_DIR}/web/openapi.yaml
         $<TARGET_FILE:tl_openapi_routes>)
set_tests_properties(test_openapi_routes PROPERTIES LABELS unit TIMEOUT 60 SKIP_RETURN_CODE 77)

# After test_web (a fixture, so `ctest -R test_openapi_answers` runs test_web first).
set_tests_properties(test_web PROPERTIES FIXTURES_SETUP web_answers)
add_test(NAME test_openapi_answers COMMAND sh -c "${TL_OPENAPI_NODE}"
         ${CMAKE_CURRENT_LIST_DIR}/openapi/check.mjs answers ${CMAKE_SOURCE_DIR}/web/openapi.yaml
         ${CMAKE_BINARY_DIR}/openapi/test_web.jsonl)
set_tests_properties(test_openapi_answers PROPERTIES FIXTURES_REQUIRED web_answers LABELS db
                     TIMEOUT 60 SKIP_RETURN_CODE 77)

# The console's answers in the browser test (recorded by tests/browser/console.test.mjs).
if(TARGET tipline)
  set_tests_properties(test_browser_console PROPERTIES FIXTURES_SETUP browser_answers)
  add_test(NAME test_openapi_browser_answers COMMAND sh -c "${TL_OPENAPI_NODE}"
           ${CMAKE_CURRENT_LIST_DIR}/openapi/check.mjs answers ${CMAKE_SOURCE_DIR}/web/openapi.yaml
           ${CMAKE_BINARY_DIR}/openapi/test_browser_console.jsonl)
  set_tests_properties(test_openapi_browser_answers PROPERTIES FIXTURES_REQUIRED browser_answers
                       LABELS "db;browser" TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()
