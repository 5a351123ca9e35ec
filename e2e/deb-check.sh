#!/usr/bin/env bash
# Installs the .deb (cargo-deb) on this machine and checks what it did: the
# user, directories and modes, the configuration, the service started as its
# unit starts it, an upgrade over itself, then remove and purge. Needs root
# and dpkg; refuses to run where jobboard is installed or has data already.
#
#   bash e2e/deb-check.sh [path/to/jobboard_*.deb]   (default: the newest in target/debian/)
#
# Build the package first: `cargo install cargo-deb --locked` once, then
# `cargo deb --locked` (a release build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
    echo "deb-check: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
DEB=${1:-$(ls -t target/debian/jobboard_*.deb 2>/dev/null | head -n 1)}
[ -f "$DEB" ] || fail "no package: run cargo deb --locked first"
if dpkg -s jobboard >/dev/null 2>&1; then fail "jobboard is installed on this machine; not touching it"; fi
[ -e /var/lib/jobboard ] && fail "/var/lib/jobboard exists; not touching a board's data"
[ -e /etc/jobboard ] && fail "/etc/jobboard exists; not touching it"
had_user=no
getent passwd jobboard >/dev/null && had_user=yes

PORT=${PORT:-18381}
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    dpkg --purge jobboard >/dev/null 2>&1 || true
    rm -rf /var/lib/jobboard /etc/jobboard
    if [ "$had_user" = no ] && getent passwd jobboard >/dev/null; then
        userdel jobboard 2>/dev/null || true
        groupdel jobboard 2>/dev/null || true
    fi
}
trap cleanup EXIT

mode() { stat -c '%U:%G %a' "$1"; }
expect() { # what actual expected
    [ "$2" = "$3" ] || fail "$1: $2, expected $3"
}

echo "deb-check: $DEB"
contents=$(dpkg-deb --contents "$DEB")
for path in ./usr/bin/jobboard ./lib/systemd/system/jobboard.service \
    ./lib/systemd/system/jobboard-backup.service ./lib/systemd/system/jobboard-backup.timer \
    ./usr/lib/sysusers.d/jobboard.conf ./usr/lib/tmpfiles.d/jobboard.conf \
    ./etc/jobboard/jobboard.toml ./usr/share/doc/jobboard/copyright; do
    grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
dpkg-deb --field "$DEB" Depends | grep -q libc6 || fail "Depends names no libc6"
grep -qx '/etc/jobboard/jobboard.toml' < <(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles) ||
    fail "jobboard.toml is not a conffile"

DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB"

# The user, its directories, the configuration's modes.
getent passwd jobboard >/dev/null || fail "no jobboard user"
id jobboard
expect "home of jobboard" "$(getent passwd jobboard | cut -d: -f6)" /var/lib/jobboard
case "$(getent passwd jobboard | cut -d: -f7)" in
*/nologin | */false) ;;
*) fail "jobboard has a login shell" ;;
esac
expect /var/lib/jobboard "$(mode /var/lib/jobboard)" "jobboard:jobboard 750"
expect /etc/jobboard "$(mode /etc/jobboard)" "root:jobboard 750"
expect /etc/jobboard/jobboard.toml "$(mode /etc/jobboard/jobboard.toml)" "root:jobboard 640"

# The configuration as installed is valid, and the service user can read it.
/usr/bin/jobboard --version
runuser -u jobboard -- /usr/bin/jobboard check-config --config /etc/jobboard/jobboard.toml >/tmp/jobboard-check-config.$$ ||
    fail "check-config refused the installed configuration"
grep -Eq '^data_dir += /var/lib/jobboard' /tmp/jobboard-check-config.$$ ||
    fail "the installed configuration does not keep data in /var/lib/jobboard: $(grep data_dir /tmp/jobboard-check-config.$$)"
rm -f /tmp/jobboard-check-config.$$

# The service as its unit runs it (no systemd here): its user, working
# directory, Environment= lines and ExecStart=, on a test port.
unit=/lib/systemd/system/jobboard.service
grep -q '^User=jobboard$' "$unit" || fail "the unit does not run as jobboard"
if command -v systemd-analyze >/dev/null 2>&1; then
    for u in "$unit" /lib/systemd/system/jobboard-backup.service /lib/systemd/system/jobboard-backup.timer; do
        verify=$(systemd-analyze verify "$u" 2>&1) || fail "systemd-analyze verify $u: $verify"
        [ -z "$verify" ] || fail "systemd-analyze verify $u warns: $verify"
    done
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "${exec_start%% *}" = /usr/bin/jobboard ] || fail "ExecStart runs ${exec_start%% *}, not the packaged /usr/bin/jobboard"
mapfile -t unit_env < <(sed -n 's/^Environment=//p' "$unit")
# setpriv execs (runuser would stay the parent and hide the exit status).
# shellcheck disable=SC2086 # ExecStart is split into words as systemd does.
(cd /var/lib/jobboard && exec env "${unit_env[@]}" JOBBOARD_LISTEN="127.0.0.1:$PORT" \
    setpriv --reuid=jobboard --regid=jobboard --init-groups $exec_start) 2>/tmp/jobboard-serve.$$ &
PID=$!
for _ in $(seq 1 100); do
    JOBBOARD_LISTEN="127.0.0.1:$PORT" /usr/bin/jobboard healthcheck >/dev/null 2>&1 && break
    sleep 0.1
done
JOBBOARD_LISTEN="127.0.0.1:$PORT" /usr/bin/jobboard healthcheck || {
    cat /tmp/jobboard-serve.$$ >&2
    fail "the service did not become healthy"
}
[ -f /var/lib/jobboard/jobboard.db ] || fail "no database in /var/lib/jobboard"
expect "owner of jobboard.db" "$(stat -c %U /var/lib/jobboard/jobboard.db)" jobboard
# The first admin, as README's Deployment section makes it.
echo 'correct horse battery staple' | runuser -u jobboard -- /usr/bin/jobboard \
    --config /etc/jobboard/jobboard.toml admin create --email admin@deb-check.example >/dev/null
kill -TERM "$PID"
wait "$PID" || fail "the service did not exit 0 on SIGTERM"
PID=
rm -f /tmp/jobboard-serve.$$

# An upgrade over itself keeps an edited configuration and the data.
echo '# edited by deb-check' >>/etc/jobboard/jobboard.toml
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$DEB"
grep -q 'edited by deb-check' /etc/jobboard/jobboard.toml || fail "the upgrade replaced the edited configuration"
[ -f /var/lib/jobboard/jobboard.db ] || fail "the upgrade lost the database"

# Remove keeps configuration and data; purge removes the configuration and
# keeps the data and the user (packaging/debian/postrm).
dpkg -r jobboard
[ -e /usr/bin/jobboard ] && fail "remove left /usr/bin/jobboard"
[ -f /etc/jobboard/jobboard.toml ] || fail "remove took the configuration"
dpkg --purge jobboard
[ -e /etc/jobboard/jobboard.toml ] && fail "purge left the configuration"
[ -f /var/lib/jobboard/jobboard.db ] || fail "purge removed the board's data"
getent passwd jobboard >/dev/null || fail "purge removed the user"
echo "deb-check: ok"
