#!/usr/bin/env bash
# `npm test`: typecheck, lint, format check (Prettier), then every *.test.ts against one real Temporal dev server and one
# real PostgreSQL that this script starts for the whole suite and always stops.
#   scripts/test.sh [FILE.test.ts ...]   only these test files (typecheck and lint still run)
#   KILN_SKIP_CHECKS=1                   skip typecheck, lint and the format check
#   KILN_TEST_CONCURRENCY=N              test files run at once (default 2)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$kiln_root"

ensure_node_modules
ensure_console_built
ensure_temporal_cli
ensure_postgres
ensure_chromium
ensure_nats
ensure_s3

failed=()
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then echo "== $name passed in $((SECONDS - start)) s"; else echo "== $name FAILED"; failed+=("$name"); fi
}
if [ -z "${KILN_SKIP_CHECKS:-}" ]; then
  stage typecheck npx tsc -p .
  stage "typecheck (console web app)" npx tsc -p console/web
  stage lint npx eslint .
  stage format npx prettier --check --log-level warn .
fi

work=$(mktemp -d /tmp/kiln-test.XXXXXX)
servers_pid=""
cleanup() {
  if [ -n "$servers_pid" ]; then kill -TERM "$servers_pid" 2>/dev/null || true; wait "$servers_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting the suite's Temporal dev server and PostgreSQL"
node --import tsx scripts/test-servers.ts "$work" >"$work/env" &
servers_pid=$!
for _ in $(seq 1 600); do
  grep -qx ready "$work/env" 2>/dev/null && break
  if ! kill -0 "$servers_pid" 2>/dev/null; then
    echo "the test servers did not start; Temporal's log ended with:" >&2
    tail -n 20 "$work/temporal.log" >&2 || true
    exit 1
  fi
  sleep 0.2
done
grep -qx ready "$work/env" || { echo "the test servers did not start within 120 s" >&2; exit 1; }
while IFS='=' read -r key value; do
  [ -n "$value" ] && export "$key=$value"
done <"$work/env"

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find . \( -name node_modules -o -name .tools -o -name .kiln -o -name .git -o -name dist \) -prune -o -name '*.test.ts' -print | sort)
fi
# The tests' steps read inputs they write to the temp folder, and examples/data: both are data roots.
export KILN_DATA_ROOTS="${KILN_DATA_ROOTS:-$kiln_root:${TMPDIR:-/tmp}}"
start=$SECONDS
echo "== tests: ${#files[@]} files (Temporal $TEMPORAL_ADDRESS, PostgreSQL $KILN_TEST_DATABASE_URL)"
set +e
node --import tsx --test --test-concurrency="${KILN_TEST_CONCURRENCY:-2}" --test-timeout=600000 --test-reporter=spec "${files[@]}" 2>&1 | tee "$work/tests.log"
tests_status=${PIPESTATUS[0]}
set -e
[ "$tests_status" = 0 ] || failed+=(tests)

echo
echo "== summary (tests took $((SECONDS - start)) s)"
grep -E '^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$work/tests.log" || true
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all passed"
