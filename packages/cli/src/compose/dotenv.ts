// The `.env` file compose reads from the project directory:
//   KEY=value            export KEY=value        # comments
//   KEY='literal $text'  KEY="with \n escapes and ${OTHER}"  (may span lines)
//   KEY=value # inline comment (unquoted values only)
// Double-quoted and unquoted values are interpolated against the variables defined
// above them and the environment; single-quoted values are taken literally.

import { CommandError } from "../errors.js";
import { interpolate, type Lookup } from "./interpolate.js";

/** Parses `.env` text into ordered variables. `lookup` resolves references to outside variables. */
export function parseDotEnv(text: string, lookup: Lookup = () => undefined, file = ".env"): Map<string, string> {
  const vars = new Map<string, string>();
  const resolve: Lookup = (name) => vars.get(name) ?? lookup(name);
  const src = text.replace(/\r\n/g, "\n");
  let i = 0;
  let lineNo = 1;
  while (i < src.length) {
    const eol = src.indexOf("\n", i);
    const lineEnd = eol === -1 ? src.length : eol;
    const line = src.slice(i, lineEnd);
    const startLine = lineNo;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      i = lineEnd + 1;
      lineNo++;
      continue;
    }
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=?)\s*/.exec(line);
    if (!m) throw new CommandError(`${file}:${startLine}: invalid line ${JSON.stringify(line)} (expected KEY=VALUE)`);
    const key = m[1]!;
    if (m[2] === "") {
      // A bare KEY passes the variable through from the environment, when set.
      const v = lookup(key);
      if (v !== undefined) vars.set(key, v);
      i = lineEnd + 1;
      lineNo++;
      continue;
    }
    let pos = i + m[0].length;
    const quote = src[pos];
    let value: string;
    if (quote === "'" || quote === '"') {
      const close = findClosingQuote(src, pos + 1, quote);
      if (close === -1) throw new CommandError(`${file}:${startLine}: unterminated ${quote} quote for ${key}`);
      const raw = src.slice(pos + 1, close);
      lineNo += (raw.match(/\n/g) ?? []).length;
      value = quote === "'" ? raw : interpolate(unescapeDouble(raw), { lookup: resolve, path: `${file}:${startLine}` });
      const after = src.indexOf("\n", close);
      pos = after === -1 ? src.length : after;
    } else {
      let raw = line.slice(m[0].length);
      const hash = raw.search(/\s#/);
      if (hash !== -1) raw = raw.slice(0, hash);
      value = interpolate(raw.trim(), { lookup: resolve, path: `${file}:${startLine}` });
      pos = lineEnd;
    }
    vars.set(key, value);
    i = pos + 1;
    lineNo++;
  }
  return vars;
}

function findClosingQuote(src: string, from: number, quote: string): number {
  for (let i = from; i < src.length; i++) {
    if (quote === '"' && src[i] === "\\") { i++; continue; }
    if (src[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(raw: string): string {
  return raw.replace(/\\([nrt"\\$])/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c === "$" ? "$$" : c));
}
