import { describe, expect, it } from "vitest";
import { humanDuration, humanSize, shortId, timeAgo } from "./human.js";
import { renderTable } from "./table.js";

describe("humanSize", () => {
  it.each([
    [0, "0B"],
    [999, "999B"],
    [1000, "1kB"],
    [7_800_000, "7.8MB"],
    [128_400_000, "128MB"],
    [1_234_567_890, "1.23GB"],
    [5_000_000_000_000, "5TB"],
  ])("%d → %s", (n, s) => {
    expect(humanSize(n)).toBe(s);
  });
});

describe("humanDuration / timeAgo", () => {
  it.each([
    [500, "Less than a second"],
    [1000, "1 second"],
    [45_000, "45 seconds"],
    [90_000, "About a minute"],
    [30 * 60_000, "30 minutes"],
    [3_600_000, "About an hour"],
    [5 * 3_600_000, "5 hours"],
    [3 * 86_400_000, "3 days"],
    [20 * 86_400_000, "2 weeks"],
    [100 * 86_400_000, "3 months"],
    [800 * 86_400_000, "2 years"],
  ])("%d ms → %s", (ms, s) => {
    expect(humanDuration(ms)).toBe(s);
  });
  it("formats ISO times relative to now and copes with missing ones", () => {
    expect(timeAgo("2026-01-01T00:00:00Z", Date.parse("2026-01-01T02:00:00Z"))).toBe("2 hours ago");
    expect(timeAgo(undefined)).toBe("N/A");
    expect(timeAgo("garbage")).toBe("N/A");
  });
  it("shortens digests", () => {
    expect(shortId("sha256:0123456789abcdef0123")).toBe("0123456789ab");
  });
});

describe("renderTable", () => {
  it("aligns columns like docker's tabwriter", () => {
    expect(renderTable(["REPOSITORY", "TAG", "SIZE"], [["app", "latest", "7.8MB"], ["a-much-longer-name", "1", "1kB"]])).toBe(
      "REPOSITORY           TAG       SIZE\n" +
      "app                  latest    7.8MB\n" +
      "a-much-longer-name   1         1kB\n",
    );
  });
});
