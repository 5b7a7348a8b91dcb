#!/usr/bin/env bash
# Builds dist/{{name}}.wasm, a Mailroom {{kind}} plugin: installs the pinned
# componentize-py into a venv beside this script (.venv/), then turns
# src/app.py into a WebAssembly component of the `{{world}}` world of the
# contract in wit/v{{contract}}/. Needs Python 3.9+ with venv (Debian:
# apt-get install python3-venv). Set PYTHON to choose the interpreter that
# creates the venv; it only runs the tool, the component carries its own
# CPython.
#
# --stub-wasi replaces every WASI import (files, sockets, clocks, stdout...)
# with a stub that traps, so the component imports only the host's
# mailroom:plugin interfaces. That is why app.py logs through the host's
# `log` and never calls print().
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3}
# (Re)create the venv when it is missing or requirements.txt changed since
# it was made; the copy in .venv/ records what it was made from.
if [ ! -x .venv/bin/componentize-py ] || ! cmp -s requirements.txt .venv/requirements.txt; then
  "$python" -m venv --clear .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/requirements.txt
fi

# componentize-py adds an active virtualenv's site-packages to the Python
# path it bundles modules from: resolve imports from src/ and the standard
# library alone, whatever venv the caller has activated.
unset VIRTUAL_ENV

mkdir -p dist
.venv/bin/componentize-py \
  --wit-path wit/v{{contract}} --world {{world}} \
  componentize --python-path src --stub-wasi \
  --output dist/{{name}}.wasm app
echo "wrote $PWD/dist/{{name}}.wasm ($(wc -c < dist/{{name}}.wasm | tr -d ' ') bytes)"
