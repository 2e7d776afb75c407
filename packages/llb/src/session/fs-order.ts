// fsutil's walk order: depth first, each directory's entries by name in byte order, a
// directory before its contents. Comparing paths with "/" below every other character gives
// the same order (fsutil's ComparePath), and the receiver rejects anything else.
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i), cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca === 47) return -1;
    if (cb === 47) return 1;
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}
