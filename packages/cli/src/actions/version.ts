// `tbuild version`: the version of tbuild and of the runtime it runs on.

import { arch, platform } from "node:process";
import { cliVersion } from "../version.js";

const goArch: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };

export default async function version(): Promise<number> {
  process.stdout.write(
    `tbuild version ${cliVersion()}\n` +
    ` Node.js:   ${process.version}\n` +
    ` OS/Arch:   ${platform}/${goArch[arch] ?? arch}\n`,
  );
  return 0;
}
