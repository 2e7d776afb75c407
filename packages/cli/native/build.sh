#!/usr/bin/env bash
# Compiles the warm-start pieces (each file says why it is C): tbuild, the command on PATH;
# warm.node, the warm worker's addon; warm-wait, which starts a successor worker when quiet. Needs gcc and Node's
# headers (/usr/include/node, shipped with Node's Debian and NodeSource packages); without
# them it says so and tbuild runs every command cold (bundle/main.js), as before.
set -euo pipefail
cd "$(dirname "$0")"
headers=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -e "$headers/node_api.h" ] || headers=/usr/include/node
if ! command -v cc >/dev/null || [ ! -e "$headers/node_api.h" ]; then
  echo "tbuild: not building the warm-start client (needs gcc and Node's headers); every command starts cold" >&2
  exit 0
fi
flags=(-O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong)
if ! [ tbuild -nt tbuild-client.c ] || ! [ tbuild -nt build.sh ]; then
  cc "${flags[@]}" -o tbuild.tmp tbuild-client.c && mv -f tbuild.tmp tbuild
fi
if ! [ warm-wait -nt warm-wait.c ] || ! [ warm-wait -nt build.sh ]; then
  cc "${flags[@]}" -o warm-wait.tmp warm-wait.c && mv -f warm-wait.tmp warm-wait
fi
if ! [ warm.node -nt warm-addon.c ] || ! [ warm.node -nt build.sh ]; then
  cc "${flags[@]}" -shared -fPIC -I"$headers" -o warm.node.tmp warm-addon.c && mv -f warm.node.tmp warm.node
fi
