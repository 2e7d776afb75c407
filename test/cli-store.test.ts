// Store commands against a real @tbuild/cache store seeded with small images:
// images, inspect, history, tag, rmi, du, prune. Spawns the built binary.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { type SeededImage, seedImage } from "../packages/cli/test-support/seed-store.js";
import { shmTempDir, tbuildSync } from "../packages/cli/test-support/run-cli.js";

let work: { dir: string; cleanup: () => void };
let root: string;
let app: SeededImage;
let other: SeededImage;
const t = (args: string[], env?: NodeJS.ProcessEnv) => tbuildSync(["--root", root, ...args], { env });

beforeAll(async () => {
  work = shmTempDir("tbuild-cli-store");
  root = join(work.dir, "root");
  app = await seedImage(root, "docker.io/library/app:1.0", { "etc/app.conf": "x=1\n", "bin/app": "#!/bin/sh\necho app\n" }, "2026-01-02T00:00:00Z");
  other = await seedImage(root, "localhost:5000/team/other:latest", { "data.txt": "other\n".repeat(1000) }, "2026-01-01T00:00:00Z");
});
afterAll(() => work.cleanup());

describe("tbuild images", () => {
  it("lists images like docker images, newest first", () => {
    const r = t(["images"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    expect(lines[1]).toMatch(new RegExp(`^app +1\\.0 +${app.imageId.slice(7, 19)} +\\d+ (days|weeks|months) ago +\\d+(\\.\\d+)?kB$`));
    expect(lines[2]).toMatch(new RegExp(`^localhost:5000/team/other +latest +${other.imageId.slice(7, 19)} `));
  });
  it("filters by repository and prints IDs with -q, JSON lines with --format json", () => {
    expect(t(["images", "-q", "app"]).stdout).toBe(`${app.imageId.slice(7, 19)}\n`);
    expect(t(["images", "-q", "--no-trunc", "localhost:5000/team/other"]).stdout).toBe(`${other.imageId}\n`);
    const rows = t(["images", "--format", "json"]).stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(rows[0]).toMatchObject({ Repository: "app", Tag: "1.0", Name: "docker.io/library/app:1.0", ID: app.imageId, Digest: app.manifestDigest, Size: app.layerSize });
  });
});

describe("tbuild inspect / history", () => {
  it("prints the config and manifest as JSON, by name, short ID or full ID", () => {
    for (const ref of ["app:1.0", app.imageId.slice(7, 19), app.imageId]) {
      const r = t(["inspect", ref]);
      expect(r.code, r.stderr).toBe(0);
      const [doc] = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ Id: app.imageId, Digest: app.manifestDigest, RepoTags: ["app:1.0"], Os: "linux", Architecture: "amd64" });
      expect(doc.Manifest.config.digest).toBe(app.imageId);
      expect(doc.Config.Cmd).toEqual(["sh"]);
    }
    expect(JSON.parse(t(["inspect", "--type", "config", "app:1.0"]).stdout).rootfs.type).toBe("layers");
    expect(JSON.parse(t(["inspect", "--type", "manifest", "app:1.0"]).stdout).schemaVersion).toBe(2);
  });
  it("fails with exit 1 for an unknown image", () => {
    const r = t(["inspect", "nope:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ERROR: image nope:1 not found in the local store (see 'tbuild images')\n");
  });
  it("shows history newest first with layer sizes", () => {
    const r = t(["history", "app:1.0"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(lines[1]).toMatch(new RegExp(`^${app.imageId.slice(7, 19)} +.* ago +CMD \\["sh"\\] +0B +buildkit.dockerfile.v0$`));
    expect(lines[2]).toMatch(/^<missing> +.* ago +COPY files \/ # buildkit +\d+(\.\d+)?kB +buildkit.dockerfile.v0$/);
    const raw = t(["history", "-H", "false", "--format", "json", "app:1.0"]).stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(raw.map((x) => x.Size)).toEqual([0, app.layerSize]);
  });
});

describe("tbuild tag / rmi", () => {
  it("tags, untags by name, and refuses an ID with several names without -f", () => {
    expect(t(["tag", "app:1.0", "registry.example.com/team/app:2"]).code).toBe(0);
    expect(t(["tag", "app:1.0", "app2"]).code).toBe(0);
    const ids = t(["images", "-q", "--no-trunc"]).stdout.trimEnd().split("\n");
    expect(ids.filter((i) => i === app.imageId)).toHaveLength(1);
    expect(t(["images", "--format", "json"]).stdout).toContain('"Name":"registry.example.com/team/app:2"');

    const conflict = t(["rmi", app.imageId.slice(7, 19)]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/referenced by 3 names .* use --force/);

    const r = t(["rmi", "app2", "registry.example.com/team/app:2", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("Untagged: app2:latest\nUntagged: registry.example.com/team/app:2\n");
    expect(r.stderr).toContain("image nope not found");
    expect(t(["images", "-q"]).stdout.trimEnd().split("\n")).toHaveLength(2);
  });
  it("rejects invalid names as usage errors", () => {
    const r = t(["tag", "app:1.0", "Bad/Name"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tbuild tag: invalid target name "Bad\/Name": repository name must be lowercase/);
  });
});

describe("tbuild du / prune", () => {
  it("reports usage and prunes unreferenced data, keeping tagged images", async () => {
    const du = t(["du", "--format", "json"]);
    expect(du.code, du.stderr).toBe(0);
    const before = JSON.parse(du.stdout);
    expect(before.images).toBe(2);
    expect(t(["du"]).stdout).toMatch(/^TYPE +COUNT +SIZE/);

    // Untag `other`: its blobs become garbage, which prune frees (grace period 0: no concurrent builds here).
    expect(t(["rmi", "localhost:5000/team/other"]).code).toBe(0);
    const p = t(["prune", "-f"], { TBUILD_GC_GRACE: "0" });
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^Deleted 0 cache records, 3 blobs, 0 snapshots\nTotal reclaimed space: \d+(\.\d+)?kB\n$/);
    const after = JSON.parse(t(["du", "--format", "json"]).stdout);
    expect(after.blobs.size).toBeLessThan(before.blobs.size);
    expect(t(["inspect", "app:1.0"]).code).toBe(0); // the tagged image is intact
  });
  it("validates prune flags", () => {
    for (const [args, re] of [
      [["prune", "-f", "--keep-storage", "10XB"], /--keep-storage: invalid size "10XB"/],
      [["prune", "-f", "--filter", "label=x"], /unsupported filter "label"/],
      [["prune", "-f", "--filter", "until=soon"], /invalid duration "soon"/],
    ] as const) {
      const r = t([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    expect(t(["prune", "-f", "--all", "--keep-storage", "1GB", "--filter", "until=24h"]).code).toBe(0);
  });
});
