// Go's fmt formatting of a few value kinds, because BuildKit writes history entries with
// fmt.Sprintf and users (and our differential tests) compare them byte for byte:
// `EXPOSE map[80/tcp:{}]`, `HEALTHCHECK &{["CMD" "x"] "5s" "0s" "0s" '\x03'}`.

/** strconv.Quote for the strings that occur in Dockerfiles (printable runes kept). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 0x07) out += "\\a";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0b) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/** `%q` of an integer: Go quotes it as a rune literal ('\x04', 'A'). */
export function goQuoteRune(n: number): string {
  if (n === 0x27) return "'\\''";
  if (n === 0x5c) return "'\\\\'";
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  const named: Record<number, string> = { 7: "a", 8: "b", 12: "f", 10: "n", 13: "r", 9: "t", 11: "v" };
  if (named[n]) return `'\\${named[n]}'`;
  if (n < 0x80) return `'\\x${n.toString(16).padStart(2, "0")}'`;
  if (n < 0x10000) return `'\\u${n.toString(16).padStart(4, "0")}'`;
  return `'\\U${n.toString(16).padStart(8, "0")}'`;
}

/** time.Duration.String() for a duration in nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e3) out = `${u}ns`;
  else if (u < 1e6) out = `${trimFraction(u / 1e3)}µs`;
  else if (u < 1e9) out = `${trimFraction(u / 1e6)}ms`;
  else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = trimFraction(u / 1e9);
    out = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(v: number): string {
  return v.toFixed(9).replace(/\.?0+$/, "");
}

/** `%v` of a []string: `[a b c]`. */
export function goSlice(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/** `%q` of a []string: `["a" "b"]`. */
export function goQuotedSlice(items: readonly string[]): string {
  return `[${items.map(goQuote).join(" ")}]`;
}

/** `%v` of a map[string]struct{}: keys sorted bytewise, `map[a:{} b:{}]`. */
export function goSetMap(keys: Iterable<string>): string {
  const sorted = [...new Set(keys)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${sorted.map((k) => `${k}:{}`).join(" ")}]`;
}
