#!/usr/bin/env bash
# Compiles the warm-start pieces (each file says why it is C): tbuild, the command on PATH;
# warm.node, the warm worker's addon; warm-wait, which starts a successor worker when quiet. Needs gcc and Node's
# headers (/usr/include/node, shipped with Node's Debian and NodeSource packages); without
# them it says so and tbuild runs every command cold (bundle/main.js), as before.
set -euo pipefail
cd "$(dirname "$0")"
. ../../../scripts/native-build.sh
headers=$(node_headers)
if [ -z "$headers" ]; then
  echo "tbuild: not building the warm-start client (needs gcc and Node's headers); every command starts cold" >&2
  exit 0
fi
compile tbuild tbuild-client.c
compile warm-wait warm-wait.c
compile warm.node warm-addon.c -shared -fPIC -I"$headers"
