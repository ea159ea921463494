#!/usr/bin/env bash
# The whole suite: typecheck, lint, then every *.test.ts against one real Temporal dev server
# and one real PostgreSQL server that this script starts and always stops.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_postgres

echo "== typecheck"; npx tsc -p .
echo "== lint"; npx eslint .

work=$(mktemp -d /tmp/kiln-test.XXXXXX)
temporal_pid=""
cleanup() {
  [ -n "$temporal_pid" ] && kill "$temporal_pid" 2>/dev/null && wait "$temporal_pid" 2>/dev/null || true
  [ -f "$work/pg/postmaster.pid" ] && su postgres -c "$KILN_PG_BIN/pg_ctl -D $work/pg -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

tport=$(free_port)
"$KILN_TEMPORAL_CLI" server start-dev --headless --ip 127.0.0.1 --port "$tport" --namespace default --log-level error >"$work/temporal.log" 2>&1 &
temporal_pid=$!
for _ in $(seq 1 120); do
  "$KILN_TEMPORAL_CLI" operator cluster health --address "127.0.0.1:$tport" >/dev/null 2>&1 && break
  kill -0 "$temporal_pid" 2>/dev/null || { cat "$work/temporal.log"; echo "Temporal dev server exited" >&2; exit 1; }
  sleep 0.5
done
export TEMPORAL_ADDRESS="127.0.0.1:$tport"

pport=$(free_port)
install -d -o postgres -g postgres -m 700 "$work/pg"
chmod 755 "$work"
su postgres -c "$KILN_PG_BIN/initdb -D $work/pg -U postgres --auth=trust" >/dev/null
su postgres -c "$KILN_PG_BIN/pg_ctl -D $work/pg -o \"-h 127.0.0.1 -p $pport -k $work/pg\" -l $work/pg/log -w start" >/dev/null
su postgres -c "$KILN_PG_BIN/createdb -h 127.0.0.1 -p $pport -U postgres kiln_test"
export KILN_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$pport/kiln_test"
echo "== tests (Temporal $TEMPORAL_ADDRESS, PostgreSQL 127.0.0.1:$pport)"

mapfile -t files < <(find . -name '*.test.ts' -not -path './node_modules/*' -not -path './.kiln/*' -not -path './.tools/*' -not -path './bench/.venv/*' | sort)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
