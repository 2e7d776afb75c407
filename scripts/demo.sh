#!/usr/bin/env bash
# The main job on a fresh machine, offline: set up, make a busybox base image locally,
# build the example app in fixtures/app, save it as an OCI tarball, then build again to
# show that every step that makes a layer (WORKDIR, COPY, RUN) is CACHED. The store is the one the `tbuild` command uses
# ($TBUILD_ROOT, else /var/lib/tbuild), so `tbuild -t app .` on `FROM busybox` works
# right after the demo, without a registry.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
tbuild() { node packages/cli/bundle/main.js "$@"; }
store=${TBUILD_ROOT:-/var/lib/tbuild}
out=${DEMO_OUT:-/tmp/tbuild-demo}
mkdir -p "$out"

echo "== base image: busybox:latest from Debian's busybox-static, into $store"
bash fixtures/base/busybox-rootfs.sh "$out/busybox-rootfs.tar"
tbuild import --change 'CMD ["sh"]' "$out/busybox-rootfs.tar" busybox:latest

echo "== build fixtures/app"
tbuild build --progress plain -t example-app:latest fixtures/app
tbuild save example-app:latest -o "$out/example-app.oci.tar"
echo "saved $out/example-app.oci.tar"

echo "== rebuild: WORKDIR, COPY and RUN print CACHED; FROM and what only sets the image config (ARG, LABEL, ENV, USER …) print DONE"
tbuild build --progress plain -t example-app:latest fixtures/app
tbuild images

echo "== next: busybox:latest and example-app:latest are in $store, the store tbuild uses${TBUILD_ROOT:+ while TBUILD_ROOT is set}"
echo "   cd YOUR-PROJECT && tbuild -t app .    # a Dockerfile FROM busybox builds offline"
command -v tbuild >/dev/null || echo "   (tbuild is not on PATH: run node $PWD/packages/cli/bundle/main.js instead)"
