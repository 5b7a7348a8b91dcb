#!/usr/bin/env bash
# Builds dist/py-classifier.wasm: src/classifier.py as a component of the
# classifier-plugin world of the frozen contract ../../wit/v0.1.0, with the
# pinned componentize-py (see ../componentize-py.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../componentize-py.sh" "$here" ../../wit/v0.1.0 classifier-plugin classifier py-classifier
