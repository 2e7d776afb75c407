// Go's time.ParseDuration, used by HEALTHCHECK flags ("1m30s", "1.5h", "300ms").

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  "\u00b5s": 1000n, // U+00B5 micro sign
  "\u03bcs": 1000n, // U+03BC Greek mu
  ms: 1000000n,
  s: 1000000000n,
  m: 60n * 1000000000n,
  h: 3600n * 1000000000n,
};

const LIMIT = 1n << 63n;

/** Thrown for a malformed duration, with Go's wording. */
export class DurationError extends Error {}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** Parses a Go duration string into nanoseconds (exact up to 2^53; larger values are rounded). */
export function parseGoDuration(input: string): number {
  const bad = () => new DurationError(`time: invalid duration ${JSON.stringify(input)}`);
  let s = input;
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw bad();
  let total = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) throw bad();
    let i = 0;
    while (isDigit(s[i])) i++;
    const pre = i > 0;
    let v = pre ? BigInt(s.slice(0, i)) : 0n;
    if (v >= LIMIT) throw bad();
    s = s.slice(i);
    let frac = "";
    let post = false;
    if (s[0] === ".") {
      s = s.slice(1);
      let j = 0;
      while (isDigit(s[j])) j++;
      post = j > 0;
      frac = s.slice(0, j);
      s = s.slice(j);
    }
    if (!pre && !post) throw bad();
    let u = 0;
    while (u < s.length && s[u] !== "." && !isDigit(s[u])) u++;
    if (u === 0) throw new DurationError(`time: missing unit in duration ${JSON.stringify(input)}`);
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS[unitName];
    if (unit === undefined) {
      throw new DurationError(`time: unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(input)}`);
    }
    if (v > LIMIT / unit) throw bad();
    v *= unit;
    if (frac !== "") {
      // Go accumulates the fraction as float64(f) * unit / scale, truncated.
      const f = Number(frac.slice(0, 18));
      const scale = 10 ** Math.min(frac.length, 18);
      v += BigInt(Math.trunc(f * (Number(unit) / scale)));
      if (v > LIMIT) throw bad();
    }
    total += v;
    if (total > LIMIT) throw bad();
  }
  if (!neg && total > LIMIT - 1n) throw bad();
  return Number(neg ? -total : total);
}
