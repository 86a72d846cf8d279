# tests/web_openapi.cmake - web/openapi.yaml is the API: it passes Redocly's linter.
# Node and the npm modules come from deploy/setup.sh deps; without them the test is
# skipped with a message.
add_test(NAME test_openapi_lint COMMAND ${CMAKE_CURRENT_LIST_DIR}/openapi/lint.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(test_openapi_lint PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
