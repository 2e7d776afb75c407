// Translates the regular expressions that moby/patternmatcher generates (Go RE2
// syntax) into equivalent JavaScript regular expressions (with the `u` flag, so that
// `?` and `[^/]` match one code point as Go matches one rune). Only the constructs
// the generator can emit need handling: literals, escapes, character classes
// (including POSIX `[:name:]`), `.`, `^`, `$`, `*`, `?` and groups.

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7f",
  blank: "\\t ",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`\\{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Thrown for syntax Go's regexp package rejects too, or that we do not support. */
export class RegexpSyntaxError extends Error {}

const CLASS_SPECIAL = new Set(["\\", "]", "[", "^", "-"]);
const OUTSIDE_SPECIAL = new Set(["\\", "^", "$", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/"]);

function lit(cp: string, inClass: boolean): string {
  if (inClass) return CLASS_SPECIAL.has(cp) ? `\\${cp}` : cp;
  return OUTSIDE_SPECIAL.has(cp) ? `\\${cp}` : cp;
}

function isAlnum(c: string): boolean {
  return /^[0-9A-Za-z]$/.test(c);
}

/** Parses a Go escape at cps[k] === "\\". Returns [kind, value, next index]. */
function parseEscape(cps: string[], k: number, inClass: boolean): [kind: "char" | "js", value: string, next: number] {
  const c = cps[k + 1];
  if (c === undefined) throw new RegexpSyntaxError("trailing backslash");
  let n = k + 2;
  if (!isAlnum(c)) {
    if (c.codePointAt(0)! >= 0x80) throw new RegexpSyntaxError(`invalid escape \\${c}`);
    return ["char", c, n];
  }
  switch (c) {
    case "a": return ["char", "\x07", n];
    case "f": return ["char", "\f", n];
    case "n": return ["char", "\n", n];
    case "r": return ["char", "\r", n];
    case "t": return ["char", "\t", n];
    case "v": return ["char", "\v", n];
    case "d": case "D": case "w": case "W": return ["js", `\\${c}`, n];
    case "s": return ["js", inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]", n];
    case "S": return ["js", inClass ? "\\S" : "[^\\t\\n\\f\\r ]", n];
    case "x": {
      let hex: string;
      if (cps[n] === "{") {
        const end = cps.indexOf("}", n);
        if (end < 0) throw new RegexpSyntaxError("invalid escape \\x{");
        hex = cps.slice(n + 1, end).join("");
        n = end + 1;
      } else {
        hex = (cps[n] ?? "") + (cps[n + 1] ?? "");
        n += 2;
      }
      if (!/^[0-9A-Fa-f]{1,8}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) throw new RegexpSyntaxError(`invalid escape \\x${hex}`);
      return ["char", String.fromCodePoint(parseInt(hex, 16)), n];
    }
  }
  if (c >= "0" && c <= "7") {
    // Go: \0 starts an octal escape; \1-\7 only when followed by another octal digit.
    if (c !== "0" && !(cps[n] !== undefined && cps[n]! >= "0" && cps[n]! <= "7")) {
      throw new RegexpSyntaxError(`invalid escape \\${c} (backreferences are not supported)`);
    }
    let oct = c;
    while (oct.length < 3 && cps[n] !== undefined && cps[n]! >= "0" && cps[n]! <= "7") oct += cps[n++];
    return ["char", String.fromCodePoint(parseInt(oct, 8)), n];
  }
  if (!inClass) {
    if (c === "b" || c === "B") return ["js", `\\${c}`, n];
    if (c === "A") return ["js", "^", n];
    if (c === "z") return ["js", "(?![\\s\\S])", n];
  }
  throw new RegexpSyntaxError(`unsupported escape \\${c}`);
}

function convertClass(cps: string[], k: number): [string, number] {
  let out = "[";
  k++;
  if (cps[k] === "^") {
    out += "^";
    k++;
  }
  let first = true;
  for (;;) {
    const c = cps[k];
    if (c === undefined) throw new RegexpSyntaxError("missing closing ]");
    if (c === "]" && !first) return [`${out}]`, k + 1];
    first = false;
    if (c === "[" && cps[k + 1] === ":") {
      const rest = cps.slice(k + 2).join("");
      const end = rest.indexOf(":]");
      if (end >= 0) {
        const name = rest.slice(0, end);
        const set = POSIX[name];
        if (set === undefined) throw new RegexpSyntaxError(`invalid character class [:${name}:]`);
        out += set;
        k += 2 + Array.from(rest.slice(0, end)).length + 2;
        continue;
      }
    }
    let lo: string;
    if (c === "\\") {
      const [kind, value, next] = parseEscape(cps, k, true);
      k = next;
      if (kind === "js") {
        out += value;
        continue;
      }
      lo = value;
    } else {
      lo = c;
      k++;
    }
    if (cps[k] === "-" && cps[k + 1] !== undefined && cps[k + 1] !== "]") {
      k++;
      let hi: string;
      if (cps[k] === "\\") {
        const [kind, value, next] = parseEscape(cps, k, true);
        if (kind === "js") throw new RegexpSyntaxError("invalid character class range");
        hi = value;
        k = next;
      } else {
        hi = cps[k++]!;
      }
      if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw new RegexpSyntaxError(`invalid character class range ${lo}-${hi}`);
      out += `${lit(lo, true)}-${lit(hi, true)}`;
    } else {
      out += lit(lo, true);
    }
  }
}

/** Converts a Go regexp (as generated for a dockerignore pattern) to a JS RegExp. */
export function goRegexpToJs(src: string): RegExp {
  const cps = Array.from(src);
  let out = "";
  for (let k = 0; k < cps.length; ) {
    const c = cps[k]!;
    if (c === "\\") {
      const [kind, value, next] = parseEscape(cps, k, false);
      out += kind === "js" ? value : lit(value, false);
      k = next;
    } else if (c === "[") {
      const [cls, next] = convertClass(cps, k);
      out += cls;
      k = next;
    } else if (c === ".") {
      out += "[^\\n]"; // Go's "." does not match a newline (no s flag)
      k++;
    } else if ("^$()*?|+".includes(c)) {
      out += c;
      k++;
    } else {
      out += lit(c, false);
      k++;
    }
  }
  try {
    return new RegExp(out, "u");
  } catch (e) {
    throw new RegexpSyntaxError((e as Error).message);
  }
}
