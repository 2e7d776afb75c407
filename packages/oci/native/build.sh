#!/usr/bin/env bash
# Compiles xattrs.node (xattrs.c says why it is C). Needs gcc and Node's headers
# (/usr/include/node, shipped with Node's Debian and NodeSource packages); without them it says
# so and extended attributes are read with getfattr, as before.
set -euo pipefail
cd "$(dirname "$0")"
headers=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -e "$headers/node_api.h" ] || headers=/usr/include/node
if ! command -v cc >/dev/null || [ ! -e "$headers/node_api.h" ]; then
  echo "tbuild: not building xattrs.node (needs gcc and Node's headers); extended attributes are read with getfattr" >&2
  exit 0
fi
if ! [ xattrs.node -nt xattrs.c ] || ! [ xattrs.node -nt build.sh ]; then
  cc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -shared -fPIC -I"$headers" -o xattrs.node.tmp xattrs.c && mv -f xattrs.node.tmp xattrs.node
fi
