#!/usr/bin/env bash
# Kiln's logistic regression against scikit-learn's in the same run (bench/training/logistic.ts).
# Installs scikit-learn and pandas from PyPI into bench/.venv on first use; benchmark only.
#   bash bench/training/run.sh [--rows 500000] [--repeat 3] [--sgd-epochs 2]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/training/requirements.txt")"
cd "$repo"
exec npx tsx bench/training/logistic.ts --python "$python" "$@"
