import { describe, expect, it } from "vitest";
import { ShellExpansionError, ShellLex } from "./lex.js";

const lex = new ShellLex("\\");
const env = (o: Record<string, string>) => new Map(Object.entries(o));
const word = (w: string, e: Record<string, string> = {}) => lex.processWord(w, env(e)).result;
const fails = (w: string, e: Record<string, string> = {}) => {
  try {
    lex.processWord(w, env(e));
  } catch (err) {
    if (err instanceof ShellExpansionError) return err.reason;
    throw err;
  }
  throw new Error(`expected ${w} to fail`);
};

describe("pattern modifiers", () => {
  it("# and ## remove the shortest and longest prefix", () => {
    const v = { P: "usr/local/bin/tool" };
    expect(word("${P#*/}", v)).toBe("local/bin/tool");
    expect(word("${P##*/}", v)).toBe("tool");
    expect(word("${P#nomatch}", v)).toBe("usr/local/bin/tool");
    expect(word("${P#}", v)).toBe("usr/local/bin/tool");
    expect(word("${P#*}", v)).toBe("usr/local/bin/tool");
    expect(word("${P##*}", v)).toBe("");
    expect(word("${P#u?r}", v)).toBe("/local/bin/tool");
  });
  it("% and %% remove the shortest and longest suffix", () => {
    const v = { F: "archive.tar.gz" };
    expect(word("${F%.*}", v)).toBe("archive.tar");
    expect(word("${F%%.*}", v)).toBe("archive");
    expect(word("${F%}", v)).toBe("archive.tar.gz");
    expect(word("${F%.zip}", v)).toBe("archive.tar.gz");
  });
  it("escaped wildcards are literal", () => {
    expect(word("${V%%\\**}", { V: "ab**" })).toBe("ab");
    expect(word("${V#?\\?}", { V: "x??z" })).toBe("?z");
    expect(word("${V%%\\**\\*}", { V: "a*b*c*" })).toBe("a");
  });
  it("regex metacharacters in a pattern are literal, and \\} protects the brace", () => {
    expect(word("${V#(a)[b]{c\\}^$.|+}", { V: "(a)[b]{c}^$.|+rest" })).toBe("rest");
  });
  it("the pattern may come from a variable", () => {
    expect(word("${V#$P}", { V: "aabb", P: "a" })).toBe("abb");
    expect(word("${V#$P}", { V: "aabb", P: "" })).toBe("aabb");
  });
  it("* does not cross a newline (Go regexp `.`)", () => {
    expect(word("${V#*b}", { V: "a\nb b" })).toBe("a\nb b");
    expect(word("${V#a*}", { V: "a\nb" })).toBe("\nb");
  });
  it("/ replaces the first match and // every match", () => {
    const v = { P: "/a/b/a/c", N: "a", R: "x" };
    expect(word("${P/a/x}", v)).toBe("/x/b/a/c");
    expect(word("${P//a/x}", v)).toBe("/x/b/x/c");
    expect(word("${P/$N/$R}", v)).toBe("/x/b/a/c");
    expect(word("${P//\\//:}", v)).toBe(":a:b:a:c");
    expect(word("${P/\\/?\\//-}", v)).toBe("-b/a/c");
    expect(word("${P//nomatch/x}", v)).toBe("/a/b/a/c");
  });
  it("// with wildcards is greedy and follows Go's empty-match rules", () => {
    expect(word("${V//*/R}", { V: "abc" })).toBe("R");
    expect(word("${V//$E/-}", { V: "ab", E: "" })).toBe("-a-b-");
    expect(word("${V/$E/-}", { V: "ab", E: "" })).toBe("-ab");
    expect(word("${V///}", { V: "abc" })).toBe("abc");
  });
  it("// expands $0 in the replacement to the match, like Go's ReplaceAllString", () => {
    expect(word("${V//b/[$X]}", { V: "abc", X: "$0" })).toBe("a[b]c");
    expect(word("${V/b/[$X]}", { V: "abc", X: "$0" })).toBe("a[$0]c");
  });
  it("rejects :# :% and bad escapes in patterns", () => {
    expect(fails("${V:#a}")).toMatch(/unsupported modifier \(:#\)/);
    expect(fails("${V:%%a}")).toMatch(/unsupported modifier \(:%\)/);
    expect(fails("${V#\\x}", { V: "a" })).toMatch(/invalid pattern \(\\x\) in substitution: invalid escape '\\x'/);
    expect(fails("${V//ab}", { V: "a" })).toBe("syntax error: missing '/' in ${}");
    expect(fails("${V/a/b", { V: "a" })).toBe("syntax error: missing '}'");
  });
  it("handles a hostile pattern without backtracking blow-up", () => {
    const v = { V: "a".repeat(3000) };
    expect(word("${V#" + "*a".repeat(40) + "b}", v)).toBe(v.V);
    expect(word("${V//" + "*a".repeat(40) + "b/x}", v)).toBe(v.V);
  });
  it("works on code points, not UTF-16 units", () => {
    expect(word("${V#?}", { V: "🚀x" })).toBe("x");
    expect(word("${V%?}", { V: "x🚀" })).toBe("x");
  });
});

describe(":? and ? messages", () => {
  it("uses the given message, expanded", () => {
    expect(fails("${V:?must be set $A}", { A: "now" })).toBe("V: must be set now");
    expect(fails("${V:?oops}", { V: "" })).toBe("V: oops");
    expect(fails("${V?oops}")).toBe("V: oops");
  });
  it("has default messages", () => {
    expect(fails("${V:?}")).toBe("V: is not allowed to be unset");
    expect(fails("${V:?}", { V: "" })).toBe("V: is not allowed to be empty");
  });
  it("passes set values through", () => {
    expect(word("${V?x}", { V: "" })).toBe("");
    expect(word("${V:?x}", { V: "ok" })).toBe("ok");
  });
  it("prefixes the whole word to the error message", () => {
    expect(() => lex.processWord("a${V:?x}", new Map())).toThrow('failed to process "a${V:?x}": V: x');
  });
});

describe("used variables", () => {
  it("reports names read (set or not) like BuildKit's matches", () => {
    const r = lex.processWord("${A:-$B} $C ${D:+x} ${E}", env({ B: "b", C: "c", D: "" }));
    expect(r.result).toBe("b c  ");
    expect(r.used.sort()).toEqual(["B", "C", "D"]);
    expect(r.unmatched.sort()).toEqual(["A", "E"]);
  });
  it("reports names in both modes", () => {
    expect(lex.processWords("$A ${B}", env({ A: "1 2", B: "3" })).used).toEqual(["A", "B"]);
  });
});

describe("word splitting", () => {
  const words = (w: string, e: Record<string, string> = {}) => lex.processWords(w, env(e)).result;
  it("splits unquoted expansions and keeps quoted ones", () => {
    expect(words("a $V b", { V: "1  2" })).toEqual(["a", "1", "2", "b"]);
    expect(words('a "$V" b', { V: "1  2" })).toEqual(["a", "1  2", "b"]);
    expect(words("'x y'z \\ w")).toEqual(["x yz", " w"]);
  });
  it("drops empty words and keeps modifier results in place", () => {
    expect(words('"" $E x')).toEqual(["x"]);
    expect(words("80${P:-/tcp} 90", { P: "" })).toEqual(["80/tcp", "90"]);
  });
  it("keeps `<<  EOF` together (heredoc words)", () => {
    expect(words("cat <<  EOF")).toEqual(["cat", "<<  EOF"]);
  });
});

describe("lexer modes", () => {
  it("backtick escape", () => {
    const bt = new ShellLex("`");
    expect(bt.processWord("C:\\dir`$V `\"x`\"", env({ V: "v" })).result).toBe('C:\\dir$V "x"');
  });
  it("skipUnsetEnv leaves unset references as written", () => {
    const l = new ShellLex("\\", { skipUnsetEnv: true });
    expect(l.processWord("$A ${B} ${C:-d} ${E/x/y} $S", env({ S: "s" })).result).toBe("$A ${B} ${C:-d} ${E/x/y} s");
  });
  it("skipProcessQuotes keeps quotes as text (raw heredoc expansion)", () => {
    const l = new ShellLex("\\", { skipProcessQuotes: true });
    expect(l.processWord(`echo '$V' "$V"`, env({ V: "v" })).result).toBe(`echo 'v' "v"`);
  });
  it("rawQuotes and rawEscapes keep quotes and escapes", () => {
    const l = new ShellLex("\\", { rawQuotes: true, rawEscapes: true });
    expect(l.processWords(`a"b c"\\ d`, new Map()).result).toEqual([`a"b c"\\ d`]);
  });
});
