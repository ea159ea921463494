#!/usr/bin/env bash
# The serving benchmark (bench/serve/serve.ts): the node:http echo floor, Kiln's model server and
# FastAPI + uvicorn + onnxruntime on the same ONNX graph, all on loopback. Creates bench/.venv
# (python3 -m venv) and installs the FastAPI peer from PyPI on first use.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$(bash "$repo/bench/python.sh" "$repo/bench/serve/requirements.txt")"
cd "$repo"
exec npx tsx bench/serve/serve.ts --python "$python" "$@"
