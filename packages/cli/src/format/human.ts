// Human-readable sizes and ages in the style of the docker CLI (`docker images`):
// decimal units with three significant digits ("7.8MB", "128MB", "1.23GB") and
// coarse relative times ("About an hour ago", "3 days ago").

const sizeUnits = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/** Formats a byte count like docker: decimal units, three significant digits. */
export function humanSize(bytes: number): string {
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1000 && i < sizeUnits.length - 1) {
    v /= 1000;
    i++;
  }
  // toPrecision(3) gives "7.80"/"1.23e+3"; docker's %.3g drops trailing zeros.
  const digits = v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  return `${digits}${sizeUnits[i]}`;
}

/** Describes a duration the way docker does after "… ago" (e.g. "2 weeks", "About a minute"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 14) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 60) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "3 days ago" for an ISO timestamp, or "N/A" when it is missing or unparseable. */
export function timeAgo(iso: string | undefined, now: number = Date.now()): string {
  const t = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(t)) return "N/A";
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** The short image ID docker shows: 12 hex digits without the algorithm. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}
