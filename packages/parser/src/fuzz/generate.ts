// Random and mutated Dockerfiles for robustness testing. Deterministic for a seed.

/** A small fast PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const KEYWORDS = ["FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "from", "Run", "FOO"];
const FLAGS = [
  "--from=build", "--from=0", "--from=alpine:3", "--from=$X", "--chown=1:2", "--chmod=755", "--link", "--link=false", "--parents", "--exclude=*.md",
  "--checksum=sha256:abc", "--keep-git-dir", "--unpack=true", "--mount=type=cache,target=/c", "--mount=type=secret,id=s", "--mount=type=ssh",
  "--mount=type=tmpfs,target=/t,size=1m", "--mount=type=bind,from=build,source=/a,target=/b,rw", "--mount=target=$T,uid=$U", "--network=none",
  "--network=host", "--security=insecure", "--device=a/b", "--platform=$BUILDPLATFORM", "--platform=linux/arm64", "--interval=5s", "--timeout=1m30s",
  "--start-period=0", "--start-interval=10ms", "--retries=3", "--retries=-1", "--bogus", "--", "--mount=type=nfs", '--x="a b"',
];
const WORDS = [
  "alpine", "alpine:3.20", "scratch", "build", "AS", "as", "x", "/app", "./src", "$HOME", "${V:-d}", "${V:+a}", "${V?msg}", "${V#*/}", "${V%%.*}",
  "${V//a/b}", "$1", "'single quoted'", '"double $V"', "a\\ b", "80/tcp", "443/UDP", "k=v", 'k="v w"', "k", "=v", "NONE", "CMD", "[\"a\",\"b\"]",
  "[]", "[1]", "<<EOF", "<<-EOT", "<<'Q'", "3<<F", "echo", "&&", "|", "#", "\\", "`", "${", "}", "{", "$", "\"", "'", "한국어", "\u00a0", "\t",
];
const NOISE = ["\\", "`", "\n", "\r\n", "\r", "$", "{", "}", "<<", "EOF", '"', "'", "[", "]", "--", "=", ",", "#", " ", "\t", ":", "-", "?", "%", "/", "\u00a0", "\ufeff", "한", "\u0000", "ONBUILD ", "FROM ", "RUN ", "COPY --from=", "--mount=type=", "${a:-${b:-", "# escape=`\n", "# check=skip=all\n"];

function randomInstruction(r: Rng): string {
  const kw = r.pick(KEYWORDS);
  const parts = [kw];
  const nFlags = r.chance(0.4) ? r.int(3) : 0;
  for (let i = 0; i < nFlags; i++) parts.push(r.pick(FLAGS));
  const nWords = r.int(5);
  for (let i = 0; i < nWords; i++) parts.push(r.pick(WORDS));
  let line = parts.join(r.chance(0.1) ? " \\\n  " : " ");
  if (line.includes("<<") && r.chance(0.8)) {
    const m = /<<-?'?([A-Za-z]+)/.exec(line);
    const name = m ? m[1] : "EOF";
    line += "\n" + (r.chance(0.5) ? "\t" : "") + "body $V line\n" + (r.chance(0.2) ? "\t" : "") + name;
  }
  return line;
}

/** A random Dockerfile built from instruction fragments (often valid, often not). */
export function randomDockerfile(r: Rng): string {
  const lines: string[] = [];
  if (r.chance(0.2)) lines.push(r.pick(["# syntax=docker/dockerfile:1", "# escape=`", "# check=skip=JSONArgsRecommended;error=true", "#escape=\\"]));
  if (r.chance(0.3)) lines.push("ARG " + r.pick(["V=1", "IMG=alpine", "T", "A=${B:-c}"]));
  const n = 1 + r.int(12);
  for (let i = 0; i < n; i++) {
    if (i === 0 || r.chance(0.15)) lines.push(`FROM ${r.pick(WORDS)}${r.chance(0.5) ? " AS " + r.pick(["build", "b2", "Base", "1x", "scratch"]) : ""}`);
    else if (r.chance(0.1)) lines.push(r.pick(["", "   ", "# comment", "# check=skip=all"]));
    else lines.push(randomInstruction(r));
  }
  return lines.join(r.chance(0.1) ? "\r\n" : "\n") + (r.chance(0.8) ? "\n" : "");
}

/** Applies one to four random edits to `src`. */
export function mutate(src: string, r: Rng): string {
  let s = src;
  const edits = 1 + r.int(4);
  for (let e = 0; e < edits; e++) {
    const pos = r.int(s.length + 1);
    switch (r.int(6)) {
      case 0: // delete a span
        s = s.slice(0, pos) + s.slice(Math.min(s.length, pos + 1 + r.int(20)));
        break;
      case 1: // insert noise
        s = s.slice(0, pos) + r.pick(NOISE) + s.slice(pos);
        break;
      case 2: {
        // duplicate a line
        const lines = s.split("\n");
        const i = r.int(lines.length);
        lines.splice(i, 0, lines[i]);
        s = lines.join("\n");
        break;
      }
      case 3: {
        // swap two lines
        const lines = s.split("\n");
        const i = r.int(lines.length);
        const j = r.int(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        s = lines.join("\n");
        break;
      }
      case 4: // replace a character
        s = s.slice(0, pos) + String.fromCharCode(r.int(0x80)) + s.slice(pos + 1);
        break;
      default: // truncate
        s = s.slice(0, pos);
    }
  }
  return s;
}

/** Completely random text over an alphabet of Dockerfile-significant characters. */
export function randomText(r: Rng): string {
  const n = r.int(200);
  let s = "";
  for (let i = 0; i < n; i++) s += r.chance(0.7) ? r.pick(NOISE) : String.fromCharCode(32 + r.int(95));
  return s;
}
