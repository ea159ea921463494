#!/usr/bin/env bash
# Prints the path of a usable Temporal CLI on stdout; progress goes to stderr.
# Order: $TEMPORAL_CLI, `temporal` on PATH, the project cache (.tools/bin), the machine
# cache (${XDG_CACHE_HOME:-$HOME/.cache}/kiln/bin, which outlives a clone), else a build
# from the Go module proxy into the machine cache (v1.5.1 is the newest tag without
# `replace` directives; older tags are fallbacks).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
project_bin="$root/.tools/bin"
machine_bin="${XDG_CACHE_HOME:-$HOME/.cache}/kiln/bin"
versions=(v1.5.1 v1.4.1 v1.4.0)

say() { printf 'ensure-temporal: %s\n' "$*" >&2; }

# A candidate counts only if it runs and calls itself the Temporal CLI: another program
# named `temporal` on PATH must not be mistaken for it.
usable() {
  [ -n "$1" ] && [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q '^temporal version'
}

link_into_project() {
  mkdir -p "$project_bin"
  ln -sf "$1" "$project_bin/temporal"
}

if [ -n "${TEMPORAL_CLI:-}" ]; then
  if usable "$TEMPORAL_CLI"; then echo "$TEMPORAL_CLI"; exit 0; fi
  say "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable Temporal CLI; looking elsewhere"
fi

on_path=$(command -v temporal || true)
if usable "$on_path"; then echo "$on_path"; exit 0; fi

if usable "$project_bin/temporal"; then echo "$project_bin/temporal"; exit 0; fi

if usable "$machine_bin/temporal"; then
  link_into_project "$machine_bin/temporal"
  echo "$machine_bin/temporal"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  say "no Temporal CLI found and Go is not installed, so it cannot be built."
  say "Fix one of: install Go (https://go.dev/dl, or apt-get install golang-go) and rerun;"
  say "put a 'temporal' binary on PATH; or set TEMPORAL_CLI=/path/to/temporal."
  exit 1
fi

mkdir -p "$machine_bin"
# Two scripts racing to build (a test run and a demo) would both spend minutes; the
# second waits for the first and then finds its binary.
exec 9>"$machine_bin/.build.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if usable "$machine_bin/temporal"; then
  link_into_project "$machine_bin/temporal"
  echo "$machine_bin/temporal"
  exit 0
fi

for v in "${versions[@]}"; do
  say "building github.com/temporalio/cli/cmd/temporal@$v into $machine_bin (about 3 minutes on 2 cores the first time)..."
  start=$SECONDS
  if GOBIN="$machine_bin" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
      go install "github.com/temporalio/cli/cmd/temporal@$v" >&2; then
    if usable "$machine_bin/temporal"; then
      say "built temporal $v in $((SECONDS - start)) s"
      link_into_project "$machine_bin/temporal"
      echo "$machine_bin/temporal"
      exit 0
    fi
  fi
  say "building temporal $v failed"
done

say "could not build the Temporal CLI (tried ${versions[*]}). Check that the Go module proxy"
say "is reachable (go env GOPROXY), or set TEMPORAL_CLI to an existing binary."
exit 1
