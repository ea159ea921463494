#!/usr/bin/env bash
# Brings a fresh clone to a runnable state: node modules, the Temporal CLI and PostgreSQL.
# Sourced by demo.sh and test.sh; every install step Kiln needs lives here.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# onnxruntime-node's install script downloads CUDA libraries, which fails offline and is not needed for CPU.
export ONNXRUNTIME_NODE_INSTALL=skip

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing node modules (npm ci)" >&2
  npm ci --no-audit --no-fund --onnxruntime-node-install=skip >&2
fi

KILN_TEMPORAL_CLI=$(bash scripts/ensure-temporal.sh)
export KILN_TEMPORAL_CLI

ensure_postgres() {
  KILN_PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)" 2>/dev/null || true)
  if [ -z "$KILN_PG_BIN" ] || [ ! -x "$KILN_PG_BIN/initdb" ]; then
    echo "setup: installing PostgreSQL (apt-get)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    KILN_PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
  fi
  export KILN_PG_BIN
}
