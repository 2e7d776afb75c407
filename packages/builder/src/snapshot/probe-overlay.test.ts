// Needs root (the probe mounts an overlay in a private mount namespace).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { overlayUpperProblem, rememberedOk } from "./probe-overlay.js";

const dir = mkdtempSync("/dev/shm/tbuild-probe-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(process.getuid?.() === 0)("overlay probe", () => {
  it("finds overlay usable on tmpfs and records it for this kernel and filesystem only", async () => {
    expect(rememberedOk(dir)).toBe(false);
    // First call in this process for /dev/shm: a real probe, which records its success.
    expect(await overlayUpperProblem(dir)).toBeUndefined();
    expect(rememberedOk(dir)).toBe(true);
    const marker = `${dir}/.tbuild-overlay-ok`;
    const recorded = JSON.parse(readFileSync(marker, "utf8")) as { kernel: string };
    expect(recorded.kernel).toBe(release());
    // Another kernel (or a damaged marker) means probing again.
    writeFileSync(marker, JSON.stringify({ ...recorded, kernel: "0.0.0-other" }));
    expect(rememberedOk(dir)).toBe(false);
    writeFileSync(marker, "{");
    expect(rememberedOk(dir)).toBe(false);
  });
});
