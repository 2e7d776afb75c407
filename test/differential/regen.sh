#!/usr/bin/env bash
# Regenerates the differential suite's goldens with BuildKit, the reference.
# Every case under cases/ is built by the dockerd peer (Debian's dockerd 20.10 with its
# embedded BuildKit), saved with `docker save`, and described by
# test/support/image-tree.mjs as a difference from the fixture base image.
# Needs: ../shared/tools/peers/dockerd.sh start (root). Usage: regen.sh [CASE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
D="/usr/bin/docker -H unix:///tmp/dockerd.sock"
$D version >/dev/null 2>&1 || { echo "regen: start the BuildKit peer first: ../shared/tools/peers/dockerd.sh start" >&2; exit 1; }
work=$(mktemp -d /dev/shm/tbuild-regen.XXXXXX); trap 'rm -rf "$work"' EXIT

# The same base image tbuild's tests import: fixtures/base/busybox-rootfs.sh + the PATH env.
bash "$repo/fixtures/base/busybox-rootfs.sh" "$work/rootfs.tar" >/dev/null
$D rmi -f tbuild-fixture/busybox:latest >/dev/null 2>&1 || true
$D import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$work/rootfs.tar" tbuild-fixture/busybox:latest >/dev/null
$D save tbuild-fixture/busybox:latest -o "$work/base.tar"

cases=("$@"); ((${#cases[@]})) || cases=($(ls "$here/cases"))
mkdir -p "$here/golden"
for c in "${cases[@]}"; do
  dir=$here/cases/$c; ctx=$dir; args=()
  if [ -f "$dir/case.json" ]; then
    rel=$(jq -r '.context // empty' "$dir/case.json"); [ -n "$rel" ] && ctx=$repo/$rel
    while IFS= read -r kv; do args+=(--build-arg "$kv"); done < <(jq -r '(.buildArgs // {}) | to_entries[] | "\(.key)=\(.value)"' "$dir/case.json")
    t=$(jq -r '.target // empty' "$dir/case.json"); [ -n "$t" ] && args+=(--target "$t")
    # secrets for RUN --mount=type=secret: id -> file, relative to the case directory
    while IFS=$'\t' read -r id f; do [ -n "$id" ] && args+=(--secret "id=$id,src=$dir/$f"); done < <(jq -r '(.secrets // {}) | to_entries[] | "\(.key)\t\(.value)"' "$dir/case.json")
    # modes git cannot keep (only the executable bit survives a clone)
    while IFS=$'\t' read -r f m; do [ -n "$f" ] && chmod "$m" "$ctx/$f"; done < <(jq -r '(.modes // {}) | to_entries[] | "\(.key)\t\(.value)"' "$dir/case.json")
  fi
  echo "== $c"
  DOCKER_BUILDKIT=1 $D build -q --network none "${args[@]}" -t "tbuild-golden/$c:latest" -f "$ctx/Dockerfile" "$ctx" >/dev/null
  $D save "tbuild-golden/$c:latest" -o "$work/$c.tar"
  node "$repo/test/support/image-tree.mjs" "$work/$c.tar" --base "$work/base.tar" > "$here/golden/$c.json"
done
echo "regen: goldens in $here/golden"
