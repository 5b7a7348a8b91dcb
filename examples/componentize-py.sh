#!/usr/bin/env bash
# Builds a Python example plugin into EXAMPLE_DIR/dist/NAME.wasm with
# componentize-py; each example's build.sh calls it:
#
#     componentize-py.sh EXAMPLE_DIR WIT_DIR WORLD MODULE NAME
#
# (WIT_DIR relative to EXAMPLE_DIR; MODULE is src/MODULE.py). Installs the
# pinned componentize-py (componentize-py.txt) into a venv the Python
# examples share (examples/.venv), kept until the pin changes. Needs Python
# 3.9+ with venv (Debian: apt-get install python3-venv); PYTHON chooses the
# interpreter that creates the venv (it only runs the tool: the component
# carries its own CPython).
#
# --stub-wasi replaces every WASI import with a trapping stub: without it the
# component imports 25 WASI 0.2 interfaces, wasi:sockets (tcp, udp,
# ip-name-lookup) and wasi:filesystem among them. With it, it imports only
# what its mailroom:plugin world names, like the JS example.
set -euo pipefail
if [ "$#" -ne 5 ]; then
  echo "usage: $0 EXAMPLE_DIR WIT_DIR WORLD MODULE NAME" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
example="$1" wit="$2" world="$3" module="$4" name="$5"

python=${PYTHON:-python3}
venv="$here/.venv"
# Two builds (a test and a clippy run) may set the venv up at once.
exec 9>"$here/.venv.lock"
flock 9
if [ ! -x "$venv/bin/componentize-py" ] || ! cmp -s "$here/componentize-py.txt" "$venv/requirements.txt"; then
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/componentize-py.txt"
  cp "$here/componentize-py.txt" "$venv/requirements.txt"
fi
flock -u 9

# componentize-py adds an active virtualenv's site-packages to the Python
# path it resolves imports from (it bundles only modules the app imports):
# resolve from src/ and the standard library alone, whatever the caller has.
unset VIRTUAL_ENV

cd "$example"
mkdir -p dist
"$venv/bin/componentize-py" \
  --wit-path "$wit" --world "$world" \
  componentize --python-path src --stub-wasi \
  --output "dist/$name.wasm" "$module"
echo "wrote $PWD/dist/$name.wasm ($(wc -c < "dist/$name.wasm") bytes)"
