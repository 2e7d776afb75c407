import { describe, expect, it } from "vitest";
import { BIG_FILE_SIZE, BIG_FILES, DIRS, FILES_PER_DIR, LAST_DIR_FILES, smallFileName, smallTextFile } from "./big-context.js";
import { dockerfileOf } from "./workload-defs.js";

describe("workload definitions", () => {
  it("bigcontext has 20,000 files and 205,463,000 bytes, as make-workloads.sh writes", () => {
    const small = (DIRS - 1) * FILES_PER_DIR + LAST_DIR_FILES;
    let bytes = 0;
    for (let n = 0; n < small; n++) bytes += smallFileName(n).size;
    expect(small + BIG_FILES).toBe(20_000);
    expect(bytes + BIG_FILES * BIG_FILE_SIZE).toBe(205_463_000);
  });

  it("names and fills small files like the Python generator", () => {
    expect(smallFileName(10000)).toEqual({ rel: "src/d100/f10000.txt", size: 8000, text: true });
    expect(smallFileName(19989).rel).toBe("src/d199/f19989.bin");
    const t = smallTextFile(10000, 8000);
    expect(t.length).toBe(8000);
    expect(t.subarray(0, 12).toString()).toBe("lorem ipsum ");
    expect(t.subarray(7992).toString()).toBe("00010000");
  });

  it("writes the peers' Dockerfiles for a base image", () => {
    const df = dockerfileOf("manylayers", "127.0.0.1:1/library/busybox:latest");
    expect(df.split("\n")).toHaveLength(43);
    expect(df).toContain("RUN echo layer-07 > /layer-07.txt\n");
    expect(dockerfileOf("small", "B")).toContain(`RUN echo "$GREETING from $APP_HOME" > built.txt`);
  });
});
