#!/usr/bin/env bash
# QEMU user emulation for foreign-platform RUN steps: Debian's qemu-user-static, registered
# in binfmt_misc with the F (fix-binary) flag. With F the kernel opens the interpreter when
# it is registered, so a RUN's sandbox (pivot_root, old root detached) needs nothing of the
# host mounted for an arm64 binary to run. Debian registers through systemd-binfmt; a host
# without systemd (CI, containers) gets the same entries written to the register file here,
# from the package's own /usr/lib/binfmt.d files. Idempotent; run as root.
# Usage: scripts/setup-emulation.sh [qemu-name ...]   (default: aarch64 arm riscv64 ppc64le s390x)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! dpkg-query -W -f='${Status}' qemu-user-static 2>/dev/null | grep -q "install ok installed"; then
  echo "setup: installing qemu-user-static"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi
BM=/proc/sys/fs/binfmt_misc
[ -e "$BM/register" ] || mount -t binfmt_misc binfmt_misc "$BM"
names=("$@"); ((${#names[@]})) || names=(aarch64 arm riscv64 ppc64le s390x)
for n in "${names[@]}"; do
  conf=/usr/lib/binfmt.d/qemu-$n.conf
  [ -f "$conf" ] || { echo "setup: no $conf (qemu-user-static has no $n)" >&2; exit 1; }
  if [ -e "$BM/qemu-$n" ]; then
    # An entry registered without F would need the interpreter inside every rootfs.
    grep -q '^flags:.*F' "$BM/qemu-$n" && continue
    echo -1 >"$BM/qemu-$n"
  fi
  line=$(grep -v '^#' "$conf" | head -n1)
  case "${line##*:}" in *F*) ;; *) line="${line}F" ;; esac
  printf '%s' "$line" >"$BM/register"
  echo "setup: registered qemu-$n in binfmt_misc (flags ${line##*:})"
done
