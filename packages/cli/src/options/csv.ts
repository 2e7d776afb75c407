// The comma-separated `key=value` syntax of docker's --output, --secret and --cache-*
// flags. Docker reads them with Go's encoding/csv, so a field may be double-quoted to
// hold commas (`name="a,b"`), with `""` standing for a literal quote.

import { UsageError } from "../errors.js";

/** Splits one CSV record into fields, honouring double quotes. */
export function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new UsageError(`unterminated quote in ${JSON.stringify(text)}`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ",") {
        throw new UsageError(`unexpected character after closing quote in ${JSON.stringify(text)}`);
      }
    } else {
      const end = text.indexOf(",", i);
      const stop = end === -1 ? text.length : end;
      field = text.slice(i, stop);
      // `key="quoted,value"`: Go's csv is strict, but docker users write this form all the time.
      const eq = field.indexOf("=");
      if (eq !== -1 && field[eq + 1] === '"') {
        const rest = splitCsv(text.slice(i + eq + 1));
        fields.push(field.slice(0, eq + 1) + rest[0], ...rest.slice(1));
        return fields;
      }
      i = stop;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/**
 * Parses `k1=v1,k2=v2` into ordered pairs. Keys are lower-cased (docker treats them
 * case-insensitively); a field without `=` is a usage error naming `flag`.
 */
export function parseKeyValueCsv(text: string, flag: string): [key: string, value: string][] {
  const pairs: [string, string][] = [];
  for (const field of splitCsv(text)) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: field ${JSON.stringify(field)} must be a key=value pair`);
    pairs.push([field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1)]);
  }
  return pairs;
}
