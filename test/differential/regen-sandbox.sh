#!/usr/bin/env bash
# Records what BuildKit's RUN sandbox lets test/differential/sandbox/Dockerfile see:
# ../golden/sandbox-probe.txt, the output of the step's probe, one finding a line, with
# the lines that name this run's pipes and listings left out (see sandbox-parity.test.ts).
# Needs: ../shared/tools/peers/dockerd.sh start (root), gcc with a static libc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
D="/usr/bin/docker -H unix:///tmp/dockerd.sock"
$D version >/dev/null 2>&1 || { echo "regen-sandbox: start the BuildKit peer first: ../shared/tools/peers/dockerd.sh start" >&2; exit 1; }
work=$(mktemp -d /dev/shm/tbuild-regen-sandbox.XXXXXX); trap 'rm -rf "$work"' EXIT
cp "$here/sandbox/Dockerfile" "$work/"
cp "$(command -v busybox)" "$work/busybox"
gcc -static -O1 -o "$work/probe" "$repo/test/support/probes/escape-probe.c"
# --network host: the peer's dockerd runs without a bridge.
DOCKER_BUILDKIT=1 $D build --no-cache --network host --progress plain "$work" 2>&1 \
  | sed -n 's/^#[0-9]* [0-9.]* //p' | grep -Ev '^(root|via-proc1|fd[0-9]+|marker)=' > "$here/golden/sandbox-probe.txt"
echo "regen-sandbox: $here/golden/sandbox-probe.txt"
