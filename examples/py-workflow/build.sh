#!/usr/bin/env bash
# Builds dist/py-workflow.wasm: src/workflow.py as a component of the
# workflow-plugin world of the current contract ../../wit/v0.2.0, with the
# pinned componentize-py (see ../componentize-py.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../componentize-py.sh" "$here" ../../wit/v0.2.0 workflow-plugin workflow py-workflow
