// Parsing WWW-Authenticate headers (RFC 7235): one or more challenges, each a scheme and
// comma-separated auth-params whose values may be quoted strings with backslash escapes.

/** One authentication challenge of a WWW-Authenticate header. */
export interface Challenge {
  /** Lower-cased scheme: "bearer", "basic" … */
  scheme: string;
  /** Parameters with lower-cased names: realm, service, scope, error … */
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header value into its challenges (unknown syntax is skipped). */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = (): void => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (header[i] === ",") {
      i++;
      continue;
    }
    const start = i;
    const word = token();
    if (word === "") {
      i++; // unexpected character; skip it
      continue;
    }
    skipWs();
    if (header[i] === "=" && current) {
      i++;
      skipWs();
      let value = "";
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++; // closing quote
      } else {
        // Unquoted: RFC says token, but servers send URLs too; read to the next comma/space.
        const vs = i;
        while (i < n && header[i] !== "," && header[i] !== " " && header[i] !== "\t") i++;
        value = header.slice(vs, i);
      }
      current.params[word.toLowerCase()] = value;
      continue;
    }
    // A token not followed by "=" starts a new challenge (token68 credentials are ignored).
    if (header[i] === "=") {
      i = start + word.length;
      while (i < n && header[i] === "=") i++;
      continue;
    }
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}
