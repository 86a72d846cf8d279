#!/bin/sh
# tests/openapi/lint.sh SOURCE_DIR - web/openapi.yaml through Redocly CLI's linter (npm
# @redocly/cli, pinned in package.json), every rule of its recommended set as an error
# (tests/openapi/redocly.yaml). Offline: no usage data, no update check. Exit 77 (ctest:
# skipped) only when node or the npm modules are missing (deploy/setup.sh deps).
src=${1:?source dir}
cli=$src/node_modules/@redocly/cli/bin/cli.js
command -v node >/dev/null || { echo "SKIP: node is missing (deploy/setup.sh deps)"; exit 77; }
[ -f "$cli" ] || { echo "SKIP: $cli is missing (deploy/setup.sh deps: npm ci)"; exit 77; }
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$src" || exit 1
exec node "$cli" lint --config tests/openapi/redocly.yaml --format=codeframe web/openapi.yaml
