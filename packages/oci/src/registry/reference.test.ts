import { describe, expect, it } from "vitest";
import { parseReference } from "./reference.js";

describe("parseReference", () => {
  it.each([
    ["busybox", "docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest", "busybox:latest"],
    ["user/app:1.2", "docker.io", "user/app", "1.2", "docker.io/user/app:1.2", "user/app:1.2"],
    ["index.docker.io/library/alpine:3", "docker.io", "library/alpine", "3", "docker.io/library/alpine:3", "alpine:3"],
    ["ghcr.io/org/team/app", "ghcr.io", "org/team/app", "latest", "ghcr.io/org/team/app:latest", "ghcr.io/org/team/app:latest"],
    ["localhost/app", "localhost", "app", "latest", "localhost/app:latest", "localhost/app:latest"],
    ["127.0.0.1:5000/a/b:t", "127.0.0.1:5000", "a/b", "t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t"],
    ["[::1]:5000/app", "[::1]:5000", "app", "latest", "[::1]:5000/app:latest", "[::1]:5000/app:latest"],
  ])("%s", (input, registry, repository, tag, full, familiar) => {
    const r = parseReference(input);
    expect([r.registry, r.repository, r.tag]).toEqual([registry, repository, tag]);
    expect(r.toString()).toBe(full);
    expect(r.familiar).toBe(familiar);
  });

  it("keeps digests and leaves the tag empty when only a digest is given", () => {
    const d = `sha256:${"a".repeat(64)}`;
    const r = parseReference(`alpine@${d}`);
    expect(r.tag).toBeUndefined();
    expect(r.digest).toBe(d);
    expect(r.reference).toBe(d);
    expect(r.toString()).toBe(`docker.io/library/alpine@${d}`);
    expect(parseReference(`alpine:3@${d}`).toString()).toBe(`docker.io/library/alpine:3@${d}`);
  });

  it.each([
    ["Busybox", "must be lowercase"],
    ["app:-bad", "tag"],
    ["app@sha256:abc", "digest"],
    ["a//b", "path component"],
    ["", "empty"],
    ["example.com/", "empty"],
  ])("refuses %j (%s)", (input, why) => {
    expect(() => parseReference(input)).toThrow(why);
  });
});
