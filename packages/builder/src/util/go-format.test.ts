import { describe, expect, it } from "vitest";
import { goDuration, goQuote, goQuoteRune, goQuotedSlice, goSetMap, goSlice } from "./go-format.js";

describe("go formatting used in history entries", () => {
  it("formats durations like time.Duration", () => {
    expect(goDuration(5e9)).toBe("5s");
    expect(goDuration(0)).toBe("0s");
    expect(goDuration(90e9)).toBe("1m30s");
    expect(goDuration(1.5e9)).toBe("1.5s");
    expect(goDuration(500e6)).toBe("500ms");
    expect(goDuration(3600e9 + 1e9)).toBe("1h0m1s");
  });
  it("quotes ints as runes and strings like strconv.Quote", () => {
    expect(goQuoteRune(4)).toBe("'\\x04'");
    expect(goQuoteRune(0)).toBe("'\\x00'");
    expect(goQuoteRune(65)).toBe("'A'");
    expect(goQuote('a "b"\tc')).toBe('"a \\"b\\"\\tc"');
  });
  it("formats slices and sets", () => {
    expect(goSlice(["/bin/sh", "-ec"])).toBe("[/bin/sh -ec]");
    expect(goQuotedSlice(["CMD", "/bin/true"])).toBe('["CMD" "/bin/true"]');
    expect(goSetMap(["80/tcp", "443/tcp", "53/udp"])).toBe("map[443/tcp:{} 53/udp:{} 80/tcp:{}]");
  });
});
