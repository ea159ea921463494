#!/usr/bin/env bash
# Prints the path of an S3-compatible server (gofakes3's command, an S3 server over HTTP with a
# file-system backend) for the object-store tests and benchmark; progress goes to stderr.
# Order: $KILN_S3_SERVER, the machine cache (${XDG_CACHE_HOME:-$HOME/.cache}/kiln/bin), else a
# build from the Go module proxy into that cache, as ensure-temporal.sh does for Temporal.
# (SeaweedFS's module has `replace` directives, so `go install` refuses it; MinIO is AGPL.)
set -euo pipefail

machine_bin="${XDG_CACHE_HOME:-$HOME/.cache}/kiln/bin"
module=github.com/johannesboyne/gofakes3/cmd/gofakes3
versions=(v1.2.0 v1.1.0)

say() { printf 'ensure-s3: %s\n' "$*" >&2; }

# `-help` exits with 2, so its output is read whatever its status.
usable() { [ -n "$1" ] && [ -x "$1" ] && { "$1" -help 2>&1 || true; } | grep -q -- '-backend'; }

if [ -n "${KILN_S3_SERVER:-}" ]; then
  if usable "$KILN_S3_SERVER"; then echo "$KILN_S3_SERVER"; exit 0; fi
  say "KILN_S3_SERVER=$KILN_S3_SERVER is not an executable gofakes3; looking elsewhere"
fi

if usable "$machine_bin/gofakes3"; then echo "$machine_bin/gofakes3"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  say "no S3 test server found and Go is not installed, so it cannot be built."
  say "Install Go (https://go.dev/dl, or apt-get install golang-go) and rerun, or set KILN_S3_SERVER."
  exit 1
fi

mkdir -p "$machine_bin"
# A second script racing to build waits for the first and then finds its binary.
exec 9>"$machine_bin/.build.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if usable "$machine_bin/gofakes3"; then echo "$machine_bin/gofakes3"; exit 0; fi

for v in "${versions[@]}"; do
  say "building $module@$v into $machine_bin (under a minute the first time)..."
  start=$SECONDS
  if GOBIN="$machine_bin" GOFLAGS="${GOFLAGS:--mod=mod -buildvcs=false}" go install "$module@$v" >&2 \
    && usable "$machine_bin/gofakes3"; then
    say "built gofakes3 $v in $((SECONDS - start)) s"
    echo "$machine_bin/gofakes3"
    exit 0
  fi
  say "building gofakes3 $v failed"
done

say "could not build gofakes3 (tried ${versions[*]}). Check that the Go module proxy is"
say "reachable (go env GOPROXY), or set KILN_S3_SERVER to an existing binary."
exit 1
