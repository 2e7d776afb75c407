# Sourced by the repository's native/build.sh scripts (each says what it builds and why it is
# C): the compiler flags, where Node's headers are, and "compile unless up to date". Not the
# builder's: that one ships in @tbuild/builder and runs without this repository.

NATIVE_FLAGS=(-O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong)

# Node's headers for an addon: beside the node on PATH (NodeSource, nvm), else /usr/include/node
# (Debian). Prints nothing when there is no compiler or no node_api.h.
node_headers() {
  command -v cc >/dev/null || return 0
  local dir
  dir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
  [ -e "$dir/node_api.h" ] || dir=/usr/include/node
  if [ -e "$dir/node_api.h" ]; then echo "$dir"; fi
}

# compile OUT SRC [ARGS...]: cc SRC into OUT (ARGS after the source: -l, -shared, -I), unless OUT
# is newer than SRC, the calling build.sh and this file (its flags).
compile() {
  local out=$1 src=$2
  shift 2
  if [ "$out" -nt "$src" ] && [ "$out" -nt build.sh ] && [ "$out" -nt "${BASH_SOURCE[0]}" ]; then return 0; fi
  cc "${NATIVE_FLAGS[@]}" -o "$out.tmp" "$src" "$@" && mv -f "$out.tmp" "$out"
}
