#!/usr/bin/env bash
# Kiln's chain, light chain and fan-out next to the hand-written Temporal floor, Prefect 3 and
# Dagster, in one run and one table (bench/peers/peers.ts). Installs the peers from PyPI into
# bench/.venv on first use; they are benchmark-only, never a dependency of Kiln.
#   STEPS=100 REPS=5 bash bench/peers/run.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/peers/requirements.txt")"
cd "$repo"
exec npx tsx bench/peers/peers.ts --python "$python" "$@"
