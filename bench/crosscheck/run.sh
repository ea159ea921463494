#!/usr/bin/env bash
# Cross-checks Kiln's evaluation metrics against scikit-learn and fairlearn to 1e-6.
# Creates bench/.venv (python3 -m venv) and installs the reference packages from PyPI on first use.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/bench/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$repo/bench/crosscheck/requirements.txt"
cd "$repo"
exec npx tsx bench/crosscheck/crosscheck.ts --python "$venv/bin/python" "$@"
