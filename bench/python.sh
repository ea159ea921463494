#!/usr/bin/env bash
# Prints the python of bench/.venv, the one venv the bench scripts share: creates it (python3 -m venv)
# on first use and installs the requirements file given ($1) from PyPI into it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/bench/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$1" >&2
echo "$venv/bin/python"
