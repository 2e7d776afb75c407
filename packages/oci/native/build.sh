#!/usr/bin/env bash
# Compiles xattrs.node (xattrs.c says why it is C). Needs gcc and Node's headers; without them
# it says so and extended attributes are read with getfattr, as before.
set -euo pipefail
cd "$(dirname "$0")"
. ../../../scripts/native-build.sh
headers=$(node_headers)
if [ -z "$headers" ]; then
  echo "tbuild: not building xattrs.node (needs gcc and Node's headers); extended attributes are read with getfattr" >&2
  exit 0
fi
compile xattrs.node xattrs.c -shared -fPIC -I"$headers"
