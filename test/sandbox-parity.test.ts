// Both executors against BuildKit: the probe Dockerfile of test/differential/sandbox, run by
// tbuild, must report what BuildKit's sandbox reported (golden/sandbox-probe.txt, recorded by
// test/differential/regen-sandbox.sh from the dockerd peer): the same chroot result, magic
// links, kernel knobs, device, syscall, capability and seccomp findings. One documented
// difference: tbuild-enter refuses to open a node made with mknod through nodev mounts
// (EACCES), where runc's device cgroup says EPERM. Needs root, gcc with a static libc.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBuildEnv, repo, type BuildEnv } from "./support/build-env.js";

const golden = readFileSync(path.join(repo, "test/differential/golden/sandbox-probe.txt"), "utf8");

/** The step's output in the golden's form: the lines that name this run's pipes and listings dropped. */
function findings(log: string): string {
  return log.split("\n").filter((l) => l !== "" && !/^(root|via-proc1|fd\d+|marker)=/.test(l)).join("\n") + "\n";
}

describe.each(["unshare", "runc"] as const)("the %s executor's sandbox, seen from inside, equals BuildKit's", (executor) => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv({ executor });
  });
  afterAll(() => env?.dispose());

  it("reports the same findings", async () => {
    const ctx = env.context({ Dockerfile: readFileSync(path.join(repo, "test/differential/sandbox/Dockerfile"), "utf8") });
    copyFileSync(execFileSync("sh", ["-c", "command -v busybox"]).toString().trim(), path.join(ctx, "busybox"));
    execFileSync("gcc", ["-static", "-O1", "-o", path.join(ctx, "probe"), path.join(repo, "test/support/probes/escape-probe.c")]);
    const { events } = await env.run({ context: ctx, noCache: true });
    const log = events.flatMap((e) => (e.type === "step-log" ? [e.data] : [])).join("");
    let expected = golden;
    if (executor === "unshare") expected = expected.replace(/^(open \/(tmp\/kmsg|dev\/kmsg2))=Operation not permitted$/gm, "$1=Permission denied");
    expect(findings(log)).toBe(expected);
  });
});
