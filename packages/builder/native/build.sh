#!/usr/bin/env bash
# Compiles tbuild-enter, the sandbox helper of the default executor (see tbuild-enter.c
# for why it is C). Needs gcc and libseccomp's headers (Debian: gcc, libseccomp-dev);
# without them it says so and tbuild falls back to the runc executor.
# Self-contained (not ../../../scripts/native-build.sh): it ships with @tbuild/builder and
# is run from node_modules by library users (packages/builder/README.md).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v cc >/dev/null || [ ! -e /usr/include/seccomp.h ]; then
  echo "tbuild: not building the sandbox helper (needs gcc and libseccomp-dev); RUN steps will use runc" >&2
  exit 0
fi
if [ tbuild-enter -nt tbuild-enter.c ] && [ tbuild-enter -nt build.sh ]; then exit 0; fi
cc -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -o tbuild-enter.tmp tbuild-enter.c -lseccomp
mv -f tbuild-enter.tmp tbuild-enter
