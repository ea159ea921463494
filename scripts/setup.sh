# Sourced by test.sh and demo.sh: brings a fresh clone to a runnable state. Every install step
# Kiln needs lives here, as functions the caller runs; sourcing changes no shell options.

kiln_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# onnxruntime-node's install script downloads CUDA libraries: that fails offline, and CPU needs none.
export ONNXRUNTIME_NODE_INSTALL=skip

# npm ci when node_modules is missing or older than the lockfile (npm writes
# node_modules/.package-lock.json on every install).
ensure_node_modules() {
  if [ ! -d "$kiln_root/node_modules" ] || [ "$kiln_root/package-lock.json" -nt "$kiln_root/node_modules/.package-lock.json" ]; then
    echo "setup: installing node modules (npm ci)" >&2
    (cd "$kiln_root" && npm ci --no-audit --no-fund) >&2
  fi
}

# Exports TEMPORAL_CLI, which cli/temporal-server.ts and ensure-temporal.sh honour first.
ensure_temporal_cli() {
  TEMPORAL_CLI=$(bash "$kiln_root/scripts/ensure-temporal.sh")
  export TEMPORAL_CLI
}

# Exports KILN_PG_BIN (as given, else the newest /usr/lib/postgresql/*/bin), installing PostgreSQL with apt-get if needed.
newest_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
ensure_postgres() {
  KILN_PG_BIN=${KILN_PG_BIN:-$(newest_pg_bin)}
  if [ -z "$KILN_PG_BIN" ] || [ ! -x "$KILN_PG_BIN/initdb" ]; then
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null 2>&1 || { echo "setup: PostgreSQL is missing; install it (apt-get install -y postgresql) or set KILN_PG_BIN" >&2; return 1; }
      sudo=sudo
    fi
    echo "setup: installing PostgreSQL (apt-get install -y postgresql)" >&2
    $sudo apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    KILN_PG_BIN=$(newest_pg_bin)
  fi
  export KILN_PG_BIN
}

# Debian's chromium, for the browser tests (playwright-core drives /usr/bin/chromium); installed with apt-get if missing.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: chromium is missing; install it (apt-get install -y chromium)" >&2; return 1; }
    sudo=sudo
  fi
  echo "setup: installing chromium (apt-get install -y chromium)" >&2
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
}

# Debian's nats-server (JetStream), for kiln stream's tests and benchmark; installed with apt-get if missing.
ensure_nats() {
  [ -x /usr/sbin/nats-server ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: nats-server is missing; install it (apt-get install -y nats-server)" >&2; return 1; }
    sudo=sudo
  fi
  echo "setup: installing nats-server (apt-get install -y nats-server)" >&2
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >&2
}
