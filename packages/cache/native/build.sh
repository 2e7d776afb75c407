#!/usr/bin/env bash
# Compiles dir-stats.node (dir-stats.c says why it is C). Needs gcc and Node's headers
# (/usr/include/node, shipped with Node's Debian and NodeSource packages); without them it says
# so and the context walk lists directories with Node's own readdir and lstat, as before.
set -euo pipefail
cd "$(dirname "$0")"
headers=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -e "$headers/node_api.h" ] || headers=/usr/include/node
if ! command -v cc >/dev/null || [ ! -e "$headers/node_api.h" ]; then
  echo "tbuild: not building dir-stats.node (needs gcc and Node's headers); the context walk uses Node's lstat" >&2
  exit 0
fi
if ! [ dir-stats.node -nt dir-stats.c ] || ! [ dir-stats.node -nt build.sh ]; then
  cc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -shared -fPIC -I"$headers" -o dir-stats.node.tmp dir-stats.c && mv -f dir-stats.node.tmp dir-stats.node
fi
