#!/usr/bin/env bash
# Verifies systemd/ecg-monitor.{service,socket} with `systemd-analyze verify` (fails on any output), and the
# service's sandbox with `systemd-analyze security --offline`: its exposure must stay at or below 2.0.
#
# verify checks that ExecStart's binary exists, so it runs against a scratch root that holds the installed
# layout: the freshly built ecg-monitor at /usr/bin, kill for ExecReload, the host's unit files (for
# sysinit.target and friends) and ours in /etc/systemd/system. systemd does not need to be PID 1.
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-$(swift build --show-bin-path)/ecg-monitor}"
if [ ! -x "$binary" ]; then
    echo "verify-units: $binary is missing; run 'swift build' first" >&2
    exit 1
fi
if ! command -v systemd-analyze >/dev/null; then
    echo "verify-units: systemd-analyze is missing (apt-get install systemd)" >&2
    exit 1
fi

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd" "$root/etc/systemd/system"
ln -s usr/bin "$root/bin"
ln -s usr/lib "$root/lib"
cp "$binary" "$root/usr/bin/ecg-monitor"
cp "$(type -P kill)" "$root/usr/bin/kill"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp systemd/ecg-monitor.service systemd/ecg-monitor.socket "$root/etc/systemd/system/"

output="$(systemd-analyze verify --root="$root" --man=no \
    /etc/systemd/system/ecg-monitor.service /etc/systemd/system/ecg-monitor.socket 2>&1)" || status=$?
if [ -n "$output" ] || [ "${status:-0}" -ne 0 ]; then
    echo "verify-units: systemd-analyze verify failed (exit ${status:-0}):" >&2
    echo "$output" >&2
    exit 1
fi
# Exposure is reported 0.0-10.0; --threshold takes it times ten.
exposure="$(systemd-analyze security --offline=true --root="$root" --threshold=20 \
    /etc/systemd/system/ecg-monitor.service 2>&1)" || {
    echo "verify-units: the sandbox's exposure is above 2.0:" >&2
    echo "$exposure" >&2
    exit 1
}
echo "verify-units: ecg-monitor.service and ecg-monitor.socket verified;" \
    "$(grep -o 'Overall exposure level.*' <<<"$exposure")"
