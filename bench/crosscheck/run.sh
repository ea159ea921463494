#!/usr/bin/env bash
# Cross-checks Kiln's evaluation metrics against scikit-learn and fairlearn to 1e-6.
# Creates bench/.venv (python3 -m venv) and installs the reference packages from PyPI on first use.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/crosscheck/requirements.txt")"
cd "$repo"
exec npx tsx bench/crosscheck/crosscheck.ts --python "$python" "$@"
