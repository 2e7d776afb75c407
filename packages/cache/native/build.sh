#!/usr/bin/env bash
# Compiles dir-stats.node (dir-stats.c says why it is C). Needs gcc and Node's headers;
# without them it says so and the context walk lists directories with Node's own readdir and
# lstat, as before.
set -euo pipefail
cd "$(dirname "$0")"
. ../../../scripts/native-build.sh
headers=$(node_headers)
if [ -z "$headers" ]; then
  echo "tbuild: not building dir-stats.node (needs gcc and Node's headers); the context walk uses Node's lstat" >&2
  exit 0
fi
compile dir-stats.node dir-stats.c -shared -fPIC -I"$headers"
