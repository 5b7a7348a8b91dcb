#!/usr/bin/env bash
# Builds dist/py-classifier.wasm: installs the pinned componentize-py into a
# venv beside this script (.venv/), then turns src/classifier.py into a
# component of the classifier-plugin world of the frozen contract
# ../../wit/v0.1.0. Needs Python 3.9+ with venv (Debian: apt-get install
# python3-venv). Set PYTHON to choose the interpreter that creates the venv.
#
# --stub-wasi replaces every WASI import with a trapping stub: without it the
# component imports 25 WASI 0.2 interfaces, wasi:sockets (tcp, udp,
# ip-name-lookup) and wasi:filesystem among them. With it, it imports only
# mailroom:plugin/host and mailroom:plugin/types, like the JS example.
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3}
if [ ! -x .venv/bin/componentize-py ] || ! cmp -s requirements.txt .venv/requirements.txt; then
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/requirements.txt
fi

# componentize-py adds an active virtualenv's site-packages to the Python
# path it resolves imports from (it bundles only modules the app imports):
# resolve from src/ and the standard library alone, whatever the caller has.
unset VIRTUAL_ENV

mkdir -p dist
.venv/bin/componentize-py \
  --wit-path ../../wit/v0.1.0 --world classifier-plugin \
  componentize --python-path src --stub-wasi \
  --output dist/py-classifier.wasm classifier
echo "wrote $PWD/dist/py-classifier.wasm ($(wc -c < dist/py-classifier.wasm) bytes)"
