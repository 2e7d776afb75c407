// fsutil sends Go's os.FileMode, not st_mode: type bits are Go's own high bits
// (os/stat_linux.go fillFileStatFromSys), permission bits stay, and setuid/setgid/sticky move.
const S_IFMT = 0o170000;
const GO = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, namedPipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

export function goFileMode(stMode: number): number {
  let m = stMode & 0o777;
  switch (stMode & S_IFMT) {
    case 0o060000: m += GO.device; break;
    case 0o020000: m += GO.device + GO.charDevice; break;
    case 0o040000: m += GO.dir; break;
    case 0o010000: m += GO.namedPipe; break;
    case 0o120000: m += GO.symlink; break;
    case 0o140000: m += GO.socket; break;
  }
  if (stMode & 0o4000) m += GO.setuid;
  if (stMode & 0o2000) m += GO.setgid;
  if (stMode & 0o1000) m += GO.sticky;
  return m;
}

/** The chmod(2) mode of a Go os.FileMode: permission bits, and setuid/setgid/sticky moved back (os.syscallMode). */
export function chmodBits(goMode: number): number {
  let m = goMode & 0o777;
  if (goMode & GO.setuid) m |= 0o4000;
  if (goMode & GO.setgid) m |= 0o2000;
  if (goMode & GO.sticky) m |= 0o1000;
  return m;
}
