// "Did you mean …?" suggestions for misspelt names (instructions, flags, options).

/** Edit distance with adjacent transpositions counted as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array<number>(b.length + 1).fill(0));
    rows[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/** The closest option to `value` if it is close enough to be a plausible typo. */
export function suggest(value: string, options: readonly string[], caseInsensitive = true): string | undefined {
  if (value.length > 64) return undefined;
  const v = caseInsensitive ? value.toLowerCase() : value;
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = distance(v, caseInsensitive ? o.toLowerCase() : o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  // Allow about one edit per three characters (at least one), as typos go.
  return best !== undefined && best !== value && bestD <= Math.max(1, Math.floor(v.length / 3)) ? best : undefined;
}

/** Appends ` (did you mean X?)` when a suggestion exists. */
export function withSuggestion(message: string, value: string, options: readonly string[]): string {
  const s = suggest(value, options);
  return s === undefined ? message : `${message} (did you mean ${s}?)`;
}
