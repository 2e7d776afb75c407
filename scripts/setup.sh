#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for tbuild: the system tools the engine and its
# tests use (sandbox runtimes, image validators, a registry server, a base-image
# source), then the npm dependencies and a build, and puts `tbuild` on PATH
# (/usr/local/bin/tbuild, a symlink to the bundle's client, packages/cli/bundle/native/tbuild).
# Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  runc uidmap iproute2 util-linux                # sandbox executors and network namespaces
  gcc libc6-dev libseccomp-dev                   # the sandbox helper (packages/builder/native) and the tests' static probes
                                                 # (the warm-start client, packages/cli/native, also needs Node's headers: the nodejs package has them)
  python3                                        # the warm-start tests' foreign client (SCM_RIGHTS from another uid)
  skopeo umoci docker-registry apache2-utils     # real clients, a real registry (htpasswd auth) for tests
  busybox-static debootstrap                     # base images made locally (no Docker Hub here)
  attr zstd xz-utils bzip2 gzip tar git          # xattrs, compression formats ADD/unpack accept, ADD of git sources
  jq curl ca-certificates time procps
  docker.io openssl                              # the remote backend's tests: Docker 20.10's embedded BuildKit (../shared/tools/peers/dockerd.sh), TLS certificates
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker-registry package starts a service on :5000; tests run their own
# registries on free loopback ports, so the packaged one is stopped.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
elif [ -x /etc/init.d/docker-registry ]; then
  /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
fi

# QEMU user emulation (qemu-user-static in binfmt_misc, F flag) for foreign-platform RUN steps.
# A host that cannot register it (a container without binfmt_misc) still gets everything else;
# such a RUN then fails naming what is missing.
bash scripts/setup-emulation.sh || echo "setup: QEMU user emulation is not available; RUN steps of foreign platforms will fail" >&2

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

# `tbuild` on PATH: a symlink to the bundle's client (native/tbuild: commands go to warm
# workers, see packages/cli/native/tbuild-client.c), or where it could not be built to the
# bundle's main.js, the bin of @tbuild/cli (npm link -w @tbuild/cli would do the same in
# `npm prefix -g`/bin). An existing /usr/local/bin/tbuild that is not our symlink is left alone.
bin=/usr/local/bin/tbuild
target=$PWD/packages/cli/bundle/native/tbuild
[ -x "$target" ] || target=$PWD/packages/cli/bundle/main.js
if [ -L "$bin" ] || [ ! -e "$bin" ]; then
  [ "$(readlink "$bin" 2>/dev/null)" = "$target" ] || { ln -sfn "$target" "$bin" && echo "setup: $bin -> $target"; }
else
  echo "setup: $bin exists and is not a symlink; run tbuild as: node $target" >&2
fi
