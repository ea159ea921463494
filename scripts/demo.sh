#!/usr/bin/env bash
# `npm run demo`: Kiln on its embedded defaults (dev server, worker, the credit-risk example).
# Arguments go to `kiln demo`, e.g. `npm run demo -- --exit`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$kiln_root"
ensure_node_modules
ensure_console_built
ensure_temporal_cli
exec npx tsx cli/main.ts demo "$@"
