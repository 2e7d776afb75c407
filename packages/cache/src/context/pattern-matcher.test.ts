import { describe, expect, it } from "vitest";
import { PatternError } from "../errors.js";
import { goClean } from "./go-path.js";
import { parseIgnoreFile } from "./ignore-file.js";
import { PatternMatcher, type MatchInfo } from "./pattern-matcher.js";

// One matcher serves two callers, so every case is asked both ways:
//  - "alone": MatchesOrParentMatches, a path checked by itself with its parent directories;
//  - "walked": MatchesUsingParentResults component by component, each directory's results
//    handed to its children, as the context walk (.dockerignore) and COPY's --exclude and
//    --parents selection (fsutil's walker in BuildKit) do.
const alone = (patterns: string[], path: string) => new PatternMatcher(patterns).matchesOrParentMatches(path);
function walked(patterns: string[], path: string): boolean {
  const pm = new PatternMatcher(patterns);
  const parts = path.split("/");
  let r: { matched: boolean; info: MatchInfo } | undefined;
  for (let i = 1; i <= parts.length; i++) r = pm.matchesUsingParentResults(parts.slice(0, i).join("/"), r?.info);
  return r!.matched;
}
const USES = { alone, walked };

describe("single patterns (moby/patternmatcher behaviour)", () => {
  // [pattern, path, expected]
  const cases: [string, string, boolean][] = [
    ["**", "file", true],
    ["**", "dir/file", true],
    ["**/", "file", true],
    ["**/**", "dir/file", true],
    ["dir/**", "dir/file", true],
    ["dir/**", "dir/dir2/file", true],
    ["**/dir", "dir", true],
    ["**/dir", "dir/file", true],
    ["**/dir2/*", "dir/dir2/file", true],
    ["**/dir2/**", "dir/dir2/dir3/file", true],
    ["**file", "file", true],
    ["**file", "dir/dir/file", true],
    ["**file", "dir/barfile", true], // suffix fast path: no separator required
    ["**/file", "dir/dir/file", true],
    ["**/file*", "dir/dir/file.txt", true],
    ["**/file*.txt*", "dir/dir/file.txt", true],
    ["**/**/*.txt", "dir/dir/file.txt", true],
    ["**/**/*.txt2", "dir/dir/file.txt", false],
    ["**/*.txt", "file.txt", true],
    ["a**/*.txt", "a/dir/dir/file.txt", true],
    ["a/*.txt", "a/dir/file.txt", false],
    ["a/*.txt", "a/file.txt", true],
    ["a/*.txt**", "a/file.txt", true],
    ["a[b-d]e", "ae", false],
    ["a[b-d]e", "ace", true],
    ["a[^b-d]e", "aze", true],
    ["a[^b-d]e", "ace", false],
    [".*", ".foo", true],
    [".*", "foo", false],
    ["abc.def", "abcdef", false],
    ["abc.def", "abc.def", true],
    ["abc?def", "abcZdef", true],
    ["abc?def", "abcdef", false],
    ["a\\\\", "a\\", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["**/foo/bar", "foo/bar", true],
    ["**/foo/bar", "dir/dir2/foo/bar", true],
    ["abc/**", "abc", false],
    ["abc/**", "abc/def/ghi", true],
    ["**/.foo", ".foo", true],
    ["**/.foo", "bar.foo", false],
    ["a(b)c/def", "a(b)c/def", true],
    ["a(b)c/def", "a(b)c/xyz", false],
    ["a.|)$(}+{bc", "a.|)$(}+{bc", true],
    ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
    ["a+b*", "a+bc", true],
    ["a+b*", "aab", false],
    ["{a,b}*", "{a,b}c", true],
    ["{a,b}*", "ac", false],
    // Case-sensitive, unlike @balena/dockerignore's default.
    ["*.TXT", "a.txt", false],
    ["README.md", "readme.md", false],
    // A directory pattern excludes everything below it.
    ["node_modules", "node_modules/x/y.js", true],
    ["src/gen", "src/gen/a/b.ts", true],
    ["src/gen", "src/generated", false],
    ["*/temp*", "somedir/temporary.txt", true],
    ["*/*/temp*", "a/b/temp.txt", true],
    ["temp?", "tempa", true],
    // One `?` or `*` matches one character (code point), never "/".
    ["?", "é", true],
    ["?", "😀", true],
    ["a?b", "a/b", false],
    // Newlines in names: "*" crosses them, "**" does not (Go's "." excludes \n).
    ["a*b", "a\nb", true],
    ["x/**/y", "x/a\nb/y", false],
    // Character classes with escapes, ranges and POSIX names.
    ["[\\]]x", "]x", true],
    ["[[:digit:]]*", "7up", true],
    ["[[:digit:]]*", "up", false],
    ["[a-c]*", "bx", true],
    ["file-[0-9].txt", "file-3.txt", true],
    // Cases COPY --exclude and --parents rely on.
    ["*.txt", "a.txt", true],
    ["*.txt", "dir/a.txt", false],
    ["dir", "dir/a.txt", true],
    ["dir/*", "dir/sub/a.txt", true],
    ["*/*.png", "dir1/file.png", true],
    ["**/*.go", "a.go", true],
    ["**/*.go", "x/y/a.go", true],
    ["src/**/*.txt", "src/a.txt", true],
    ["src/**/*.txt", "src/x/y/c.txt", true],
    ["src/**", "src/x", true],
    ["**", "anything/at/all", true],
    ["c/**/e", "c/d/e/bay", true],
    ["a.b", "axb", false],
    ["(x)", "(x)", true],
  ];
  for (const [use, match] of Object.entries(USES)) {
    for (const [p, path, want] of cases) {
      it(`${use}: ${JSON.stringify(p)} ${want ? "matches" : "does not match"} ${JSON.stringify(path)}`, () => {
        expect(match([p], path)).toBe(want);
      });
    }
  }
});

describe("pattern lists", () => {
  for (const [use, m] of Object.entries(USES)) {
    it(`${use}: the last matching pattern wins; exceptions re-include`, () => {
      expect(m(["*.go", "!fileutils.go"], "fileutils.go")).toBe(false);
      expect(m(["!fileutils.go", "*.go"], "fileutils.go")).toBe(true);
      expect(m(["docs", "!docs/README.md"], "docs/README.md")).toBe(false);
      expect(m(["docs/", "!docs/README.md"], "docs/README.md")).toBe(false);
      expect(m(["docs/*", "!docs/README.md"], "docs/README.md")).toBe(false);
      expect(m(["**", "!util/docker/web"], "util/docker/web/foo")).toBe(false);
      expect(m(["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo")).toBe(true);
      expect(m(["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl")).toBe(false);
      expect(m(["*.md", "!README.md"], "README.md")).toBe(false);
      expect(m(["*.md", "!README.md"], "NOTES.md")).toBe(true);
      expect(m(["**", "!bar/baz"], "bar/baz/foo")).toBe(false);
    });
  }

  it("tells whether a list has exceptions (a walker must then enter excluded directories)", () => {
    expect(new PatternMatcher(["a", "!b"]).hasExclusions).toBe(true);
    expect(new PatternMatcher(["a", "b"]).hasExclusions).toBe(false);
  });

  it("rejects what Docker rejects", () => {
    expect(() => new PatternMatcher(["!"])).toThrow(PatternError);
    expect(() => new PatternMatcher(["["])).toThrow(/invalid exclude pattern "\["/);
    expect(() => new PatternMatcher(["[]a]"])).toThrow(PatternError);
    expect(() => new PatternMatcher(["[a-]"])).toThrow(PatternError);
    expect(() => new PatternMatcher(["a\\"])).toThrow(PatternError);
    expect(() => new PatternMatcher(["[z-a]*"])).toThrow(PatternError);
  });

  it("cleans patterns like filepath.Clean, including the '!' quirk", () => {
    expect(new PatternMatcher(["./a/../b//c/"]).patterns[0]!.cleaned).toBe("b/c");
    // New() cleans "!./foo" as a whole: the exception keeps its "./" and never matches.
    const q = new PatternMatcher(["*", "!./foo"]);
    expect(q.patterns[1]!.cleaned).toBe("./foo");
    expect(q.matchesOrParentMatches("foo")).toBe(true);
  });

  it("inherits parent matches while walking (MatchesUsingParentResults)", () => {
    // The walker version and the stand-alone version differ here, as in BuildKit.
    const pm = new PatternMatcher(["*/x.txt", "!d"]);
    const dir = pm.matchesUsingParentResults("d", undefined);
    expect(dir.matched).toBe(false);
    expect(pm.matchesUsingParentResults("d/x.txt", dir.info).matched).toBe(true);
    expect(pm.matchesOrParentMatches("d/x.txt")).toBe(false);
  });

  it("knows when an excluded directory can be skipped whole", () => {
    expect(new PatternMatcher(["node_modules"]).canSkipExcludedDir("node_modules")).toBe(true);
    const ex = new PatternMatcher(["docs", "!docs/README.md"]);
    expect(ex.canSkipExcludedDir("docs")).toBe(false);
    expect(ex.canSkipExcludedDir("other")).toBe(true);
    expect(new PatternMatcher(["*", "!**/*.go"]).canSkipExcludedDir("vendor")).toBe(false);
  });
});

describe(".dockerignore files", () => {
  it("strips a BOM, skips column-0 comments and blanks, cleans, drops a leading /", () => {
    const text = "\uFEFF# comment\n  \n/foo/bar/\n !  /baz\n #not-a-comment\r\n./a/../b\n";
    expect(parseIgnoreFile(text)).toEqual(["foo/bar", "!baz", "#not-a-comment", "b"]);
  });
});

describe("goClean", () => {
  it("matches Go's filepath.Clean", () => {
    expect(goClean("")).toBe(".");
    expect(goClean("a//b/./c/..")).toBe("a/b");
    expect(goClean("../../x")).toBe("../../x");
    expect(goClean("/../x")).toBe("/x");
    expect(goClean("a/")).toBe("a");
    expect(goClean("/")).toBe("/");
  });
});
