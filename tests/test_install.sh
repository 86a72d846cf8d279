#!/usr/bin/env bash
# tests/test_install.sh - `deploy/setup.sh install` run for real, as root, in a throwaway
# copy of this machine: a mount namespace with an overlay over / (every write lands in a
# tmpfs and goes with the namespace), chrooted into. Then checks what the units need:
# the group and system user tipline, /etc/tipline and its keys (group-readable only),
# /var/lib/tipline-exports, the binary, the units in /etc/systemd/system, each unit
# accepted by `systemd-analyze verify` and rated by `systemd-analyze security` (printed),
# and the configuration readable by the user tipline. Skips (77) when not root or when
# the namespace or the overlay cannot be made (an unprivileged container).
#   test_install.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?source dir}" && pwd)
[ "$(id -u)" = 0 ] || { echo "skip: not root"; exit 77; }
if ! unshare -m true 2>/dev/null; then echo "skip: no mount namespace"; exit 77; fi

ov=$(mktemp -d /tmp/tipline-install.XXXXXX)
trap 'rmdir "$ov"' EXIT
unshare -m bash -s "$src" "$ov" <<'INNER'
set -euo pipefail
src=$1 ov=$2
mount -t tmpfs tmpfs "$ov" 2>/dev/null || { echo "skip: cannot mount"; exit 77; }
mkdir -p "$ov"/{upper,work,root}
mount -t overlay overlay -o "lowerdir=/,upperdir=$ov/upper,workdir=$ov/work" "$ov/root" \
  2>/dev/null || { echo "skip: no overlayfs"; exit 77; }
for d in proc sys dev; do mount --rbind "/$d" "$ov/root/$d"; done
in_root() { chroot "$ov/root" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# a machine that never had tipline: no user, group, keys or units yet
for f in /etc/tipline /etc/systemd/system/tipline-bot.service /var/lib/tipline-exports; do
  in_root rm -rf "$f"
done
in_root sh -c 'getent passwd tipline >/dev/null && userdel tipline; getent group tipline >/dev/null && groupdel tipline; true'

in_root bash -c "cd '$src' && deploy/setup.sh install" 2>&1 | tail -5
in_root bash -c "cd '$src' && deploy/setup.sh install" >/dev/null 2>&1 || fail "a second install failed"

in_root getent group tipline >/dev/null || fail "no group tipline"
in_root getent passwd tipline | grep -q ':/usr/sbin/nologin$' || fail "no system user tipline"
[ "$(in_root id -gn tipline)" = tipline ] || fail "tipline's group"
[ "$(in_root stat -c '%a %U:%G' /etc/tipline)" = "750 root:tipline" ] || fail "/etc/tipline mode"
for f in tipline.conf secret; do
  [ "$(in_root stat -c '%a %G' /etc/tipline/$f)" = "640 tipline" ] || fail "/etc/tipline/$f mode"
done
[ "$(in_root stat -c '%a %U:%G' /var/lib/tipline-exports)" = "750 tipline:tipline" ] ||
  fail "/var/lib/tipline-exports"
grep -q '^secret_file = /etc/tipline/secret$' "$ov/root/etc/tipline/tipline.conf" || fail "secret_file"
in_root /usr/local/bin/tipline --help >/dev/null || fail "the binary"
# the user the export runs as reads the configuration and the key, and nothing else there
in_root runuser -u tipline -- test -r /etc/tipline/tipline.conf || fail "tipline cannot read the config"
in_root runuser -u tipline -- test -r /etc/tipline/secret || fail "tipline cannot read the key"
in_root runuser -u nobody -- test -r /etc/tipline/secret && fail "nobody reads the key"
for u in "$src"/deploy/systemd/*.service "$src"/deploy/systemd/*.timer; do
  n=$(basename "$u")
  cmp -s "$u" "$ov/root/etc/systemd/system/$n" || fail "$n not installed"
done
for u in "$src"/deploy/systemd/*.service; do
  n=$(basename "$u")
  out=$(in_root systemd-analyze verify "/etc/systemd/system/$n" 2>&1) || fail "verify $n: $out"
  [ -z "$out" ] || echo "verify $n: $out"
  in_root systemd-analyze security --offline=true "/etc/systemd/system/$n" 2>/dev/null |
    grep 'Overall exposure' | sed "s/^→ //"
done
echo "install: ok"
INNER
