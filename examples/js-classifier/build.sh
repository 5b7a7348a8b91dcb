#!/usr/bin/env bash
# Builds dist/js-classifier.wasm: installs the locked dependencies, then runs
# componentize-js. Needs Node.js 18+ and npm (Debian: apt-get install nodejs npm).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
