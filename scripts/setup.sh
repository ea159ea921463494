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

# Builds the console's web app (console/web) with Vite into console/web/dist, which `kiln console`
# serves: when there is no build yet, or a source, the API's types or the lockfile is newer than it.
ensure_console_built() {
  local web="$kiln_root/console/web" built="$kiln_root/console/web/dist/index.html"
  if [ ! -f "$built" ] || [ -n "$(find "$web/src" "$web/index.html" "$web/vite.config.ts" "$kiln_root/console/api.ts" \
    "$kiln_root/dsl/states.ts" "$kiln_root/package-lock.json" -newer "$built" -print -quit)" ]; then
    echo "setup: building the console (vite build console/web)" >&2
    (cd "$kiln_root" && npx vite build console/web --logLevel warn) >&2
  fi
}

# Exports TEMPORAL_CLI, which cli/temporal-server.ts and ensure-temporal.sh honour first.
ensure_temporal_cli() {
  TEMPORAL_CLI=$(bash "$kiln_root/scripts/ensure-temporal.sh")
  export TEMPORAL_CLI
}

# Installs a Debian package with apt-get (through sudo when not root), or says how to.
apt_install() {
  local package=$1 sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: $package is missing; install it (apt-get install -y $package)" >&2; return 1; }
    sudo=sudo
  fi
  echo "setup: installing $package (apt-get install -y $package)" >&2
  $sudo apt-get update -qq >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
}

# Exports KILN_PG_BIN (as given, else the newest /usr/lib/postgresql/*/bin), installing PostgreSQL with apt-get if needed.
newest_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
ensure_postgres() {
  KILN_PG_BIN=${KILN_PG_BIN:-$(newest_pg_bin)}
  if [ -z "$KILN_PG_BIN" ] || [ ! -x "$KILN_PG_BIN/initdb" ]; then
    apt_install postgresql || { echo "setup: or set KILN_PG_BIN" >&2; return 1; }
    KILN_PG_BIN=$(newest_pg_bin)
  fi
  export KILN_PG_BIN
}

# Debian's chromium, for the browser tests (playwright-core drives /usr/bin/chromium); installed with apt-get if missing.
ensure_chromium() { [ -x /usr/bin/chromium ] || apt_install chromium; }

# Debian's nats-server (JetStream), for kiln stream's tests and benchmark; installed with apt-get if missing.
ensure_nats() { [ -x /usr/sbin/nats-server ] || apt_install nats-server; }

# Exports KILN_S3_SERVER (an S3-compatible server for the object-store tests and benchmark), built
# from the Go module proxy into the machine cache by ensure-s3.sh when missing.
ensure_s3() {
  KILN_S3_SERVER=$(bash "$kiln_root/scripts/ensure-s3.sh")
  export KILN_S3_SERVER
}
