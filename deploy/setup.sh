#!/usr/bin/env bash
# deploy/setup.sh - everything a fresh Debian 12 machine (as root) needs, idempotent.
#
#   deploy/setup.sh demo    install, build, start the project-local PostgreSQL, run `tipline demo`
#   deploy/setup.sh test    install, build (gcc) and run every test; then an ASan+UBSan clang
#                           build with the libFuzzer harnesses, and run every test again
#   deploy/setup.sh deps | build | db | db-stop | env     the steps alone
#   deploy/setup.sh install install the built binary, the group and system user tipline,
#                           /etc/tipline and the systemd units (deploy/systemd/: bot, web,
#                           the daily purge timer, the export timer); enables and starts
#                           them (not the export timer) when systemd runs
#
# The local cluster lives under var/ (data, Unix socket, port 54321); `deploy/setup.sh env`
# prints the exports that point tipline at it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PGBIN=/usr/lib/postgresql/15/bin
PGPORT=${TIPLINE_PGPORT:-54321}
JOBS=$(nproc 2>/dev/null || echo 2)

# Debian 12 packages, one line per concern. Versions are Debian 12's (bookworm) own.
APT_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format   # toolchain, libFuzzer, ASan
  libcurl4-openssl-dev libjson-c-dev libpq-dev libssl-dev                   # bot/, storage/
  libexif-dev libturbojpeg0-dev libjpeg62-turbo-dev                         # media/
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libheif-dev  # media/: videos, HEIC
  ffmpeg                                                                    # tests: make and probe videos
  libpcre2-dev libmicrohttpd-dev libcmocka-dev                              # moderation/, web/, tests
  postgresql-15 postgresql-15-postgis-3 postgresql-contrib                  # database (+ pg_trgm)
  libimage-exiftool-perl libjpeg-turbo-progs mat2 geographiclib-tools       # independent checkers, bench
  tzdata                                                                    # the citizens' clock (time_zone)
  zlib1g-dev                                                                # web/: gzip feeds
  gdal-bin                                                                  # exports' independent reader (ogrinfo, ogr2ogr)
  time                                                                      # peak RSS in test_export and bench/export
  prometheus                                                                # promtool checks /metrics (tests)
  libsystemd-dev                                                            # sd_notify: Type=notify units
  wrk                                                                       # bench/webhook
)
# web assets and the gazetteer data come from npm; Debian's nodejs/npm only when none is there.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
# console (web/static): the browser test drives Debian's chromium with playwright-core (npm)
APT_PACKAGES+=(chromium)

log() { printf '==> %s\n' "$*" >&2; }

deps() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      log "missing packages (run as root to install): ${missing[*]}"; exit 1
    fi
    log "apt-get install ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ -f package.json ] && command -v npm >/dev/null; then
    if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then
      log "npm install (pinned in package.json / package-lock.json)"
      if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
      else npm install --no-audit --no-fund --loglevel=error; fi
      touch node_modules
    fi
  fi
}

build() {
  # the gazetteer first: the test configuration points test_geo at it when it exists
  if [ -x deploy/gazetteer/build.sh ] && [ -d node_modules ] && [ ! -s var/gazetteer.tsv ]; then
    mkdir -p var
    deploy/gazetteer/build.sh var/gazetteer.tsv
  fi
  log "build (gcc, -Werror) into build/"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "$JOBS"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pgdir() {
  # The cluster lives in var/pg unless the postgres user cannot reach it (a repo under a
  # private home directory); then in /var/tmp, keyed by the repo path.
  local d="$here/var/pg"
  mkdir -p "$d"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$d"
    if ! runuser -u postgres -- test -w "$d"; then
      d="/var/tmp/tipline-pg-$(printf '%s' "$here" | md5sum | cut -c1-8)"
      mkdir -p "$d"; chown postgres: "$d"
    fi
  fi
  echo "$d"
}

db() {
  local d; d=$(pgdir)
  if [ ! -f "$d/data/PG_VERSION" ]; then
    log "initdb $d/data"
    as_pg "$PGBIN/initdb" -D "$d/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_pg "$PGBIN/pg_ctl" -D "$d/data" status >/dev/null 2>&1; then
    log "start PostgreSQL on $d (port $PGPORT, Unix socket only)"
    as_pg "$PGBIN/pg_ctl" -D "$d/data" -w -l "$d/server.log" \
      -o "-p $PGPORT -k $d -c listen_addresses=''" start >/dev/null
  fi
  psql -X -q "host=$d port=$PGPORT user=postgres dbname=postgres" -tc \
    "SELECT 1 FROM pg_database WHERE datname='tipline'" | grep -q 1 \
    || psql -X -q "host=$d port=$PGPORT user=postgres dbname=postgres" -c "CREATE DATABASE tipline"
  mkdir -p var
  [ -f var/secret ] || build/cli/tipline keygen var/secret
  cat > var/tipline.env <<ENV
export TIPLINE_DATABASE_URL="host=$d port=$PGPORT user=postgres dbname=tipline"
export TIPLINE_SECRET_FILE="$here/var/secret"
export TIPLINE_AREA_FILE="$here/deploy/area_ukraine.geojson"
ENV
  [ -s var/gazetteer.tsv ] && echo "export TIPLINE_GAZETTEER=\"$here/var/gazetteer.tsv\"" >> var/tipline.env
  # shellcheck disable=SC1091
  . var/tipline.env
  build/cli/tipline migrate
}

db_stop() {
  local d; d=$(pgdir)
  as_pg "$PGBIN/pg_ctl" -D "$d/data" -m fast stop || true
}

run_tests() {
  build
  log "tests (gcc build): ctest"
  (cd build && ctest --output-on-failure -j "$JOBS")
  log "ASan+UBSan clang build with libFuzzer harnesses into build-asan/"
  CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTIPLINE_SANITIZE=ON -DTIPLINE_FUZZ=ON >/dev/null
  cmake --build build-asan -j "$JOBS"
  log "tests (ASan+UBSan build, fuzzers included): ctest"
  (cd build-asan && ctest --output-on-failure -j "$JOBS")
}

install_units() {
  [ "$(id -u)" = 0 ] || { log "install: run as root"; exit 1; }
  [ -x build/cli/tipline ] || build
  log "install /usr/local/bin/tipline, /etc/tipline, deploy/systemd/* into /etc/systemd/system"
  install -m 0755 build/cli/tipline /usr/local/bin/tipline
  # the services run as dynamic users in the group tipline, which may read the keys; the
  # scheduled export runs as the system user tipline (its files outlive the run)
  getent group tipline >/dev/null || groupadd --system tipline
  getent passwd tipline >/dev/null ||
    useradd --system --gid tipline --home-dir /var/lib/tipline-exports --no-create-home \
      --shell /usr/sbin/nologin --comment "tipline scheduled exports" tipline
  install -d -m 0750 -g tipline /etc/tipline
  install -d -m 0750 -o tipline -g tipline /var/lib/tipline-exports
  [ -f /etc/tipline/tipline.conf ] ||
    sed -e 's|^secret_file = .*|secret_file = /etc/tipline/secret|' \
        -e 's|^bot_token_file =.*|bot_token_file = /etc/tipline/bot-token|' \
        -e 's|^webhook_secret_file = .*|webhook_secret_file = /etc/tipline/webhook-secret|' \
        deploy/tipline.conf.sample > /etc/tipline/tipline.conf
  [ -f /etc/tipline/secret ] || /usr/local/bin/tipline keygen /etc/tipline/secret
  chgrp tipline /etc/tipline/tipline.conf /etc/tipline/secret
  chmod 0640 /etc/tipline/tipline.conf /etc/tipline/secret
  install -d /usr/local/share/doc/tipline
  install -m 0644 README.md /usr/local/share/doc/tipline/README.md
  for u in deploy/systemd/*.service deploy/systemd/*.timer; do
    install -m 0644 "$u" /etc/systemd/system/
  done
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable tipline-bot.service tipline-web.service tipline-purge.timer
    [ -f /etc/tipline/bot-token ] && systemctl restart tipline-bot.service tipline-web.service
    systemctl start tipline-purge.timer
    [ -f /etc/tipline/bot-token ] || log "put the bot token in /etc/tipline/bot-token (mode 0640, group tipline), then: systemctl start tipline-bot tipline-web"
    log "scheduled exports (optional): systemctl enable --now tipline-export.timer"
  else
    log "systemd is not running here: the units are installed, start them on the real host"
  fi
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  db) deps; build; db ;;
  db-stop) db_stop ;;
  env) cat var/tipline.env ;;
  demo) deps; build; db; build/cli/tipline demo ;;
  test) deps; run_tests ;;
  install) deps; build; install_units ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
