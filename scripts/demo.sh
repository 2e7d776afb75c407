#!/usr/bin/env bash
# The main job on a fresh machine, offline: set up, make a busybox base image locally,
# build the example app in fixtures/app, save it as an OCI tarball, then build again to
# show that every step is CACHED. Store: $TBUILD_ROOT (default /dev/shm/tbuild-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TBUILD_ROOT=${TBUILD_ROOT:-/dev/shm/tbuild-demo}
tbuild() { node packages/cli/bundle/main.js "$@"; }
out=${DEMO_OUT:-/tmp/tbuild-demo}
mkdir -p "$out"

echo "== base image: busybox:latest from Debian's busybox-static"
bash fixtures/base/busybox-rootfs.sh "$out/busybox-rootfs.tar"
tbuild import --change 'CMD ["sh"]' "$out/busybox-rootfs.tar" busybox:latest

echo "== build fixtures/app"
tbuild build --progress plain -t example-app:latest fixtures/app
tbuild save example-app:latest -o "$out/example-app.oci.tar"
echo "saved $out/example-app.oci.tar"

echo "== rebuild: every step CACHED"
tbuild build --progress plain -t example-app:latest fixtures/app
tbuild images
