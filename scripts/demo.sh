#!/usr/bin/env bash
# Kiln's main job on its embedded defaults: dev server, worker, the credit-risk example.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec npx tsx cli/main.ts demo "$@"
