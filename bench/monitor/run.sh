#!/usr/bin/env bash
# Kiln's dataset drift against Evidently on the same generated data in the same run (bench/monitor/drift.ts).
# Creates bench/.venv (python3 -m venv) and installs Evidently and SciPy from PyPI on first use.
#   bash bench/monitor/run.sh [--rows 1000000] [--reference-rows N] [--reps 3] [--keep]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/monitor/requirements.txt")"
cd "$repo"
exec npx tsx bench/monitor/drift.ts --python "$python" "$@"
