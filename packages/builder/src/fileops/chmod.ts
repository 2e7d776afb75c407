// --chmod for COPY/ADD: an octal mode (`755`, `0644`, `4755`) replaces the permission and
// set-id/sticky bits; a symbolic mode (`u=rwX,go=rX`, `+x`, `g=u`, Dockerfile 1.14+) edits
// the source's bits with chmod(1) rules, evaluated with a zero umask as BuildKit does.
import { FileOpError } from "./errors.js";

/** Computes the new mode (07777 bits) of an entry from its current mode. */
export interface ChmodFn {
  (mode: number, isDir: boolean): number;
  /** The octal value for an octal spec; BuildKit also creates missing parent directories with it. */
  readonly octal?: number;
}

const U = 0o4700, G = 0o2070, O = 0o0007, ALL = 0o6777, STICKY = 0o1000;

type Op = "+" | "-" | "=";
type Action =
  | { kind: "bits"; op: Op; bits: number; x: boolean }
  | { kind: "copy"; op: Op; from: "u" | "g" | "o" };
interface Clause {
  who: number; // 0 = none given (all bits)
  actions: Action[];
}

function invalid(spec: string): FileOpError {
  return /^[0-9]/.test(spec)
    ? new FileOpError("BAD_FLAG", `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`)
    : new FileOpError("BAD_FLAG", `invalid chmod parameter: '${spec}': not an octal mode nor a symbolic mode like u+x or u=rwX,go=rX`);
}

function parseSymbolic(spec: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of spec.split(",")) {
    let i = 0;
    let who = 0;
    for (; i < part.length && "ugoa".includes(part[i]!); i++) {
      who |= part[i] === "u" ? U : part[i] === "g" ? G : part[i] === "o" ? O : ALL;
    }
    if (i >= part.length) throw invalid(spec);
    const actions: Action[] = [];
    while (i < part.length) {
      const op = part[i] as Op;
      if (op !== "+" && op !== "-" && op !== "=") throw invalid(spec);
      i++;
      if (i < part.length && "ugo".includes(part[i]!)) {
        actions.push({ kind: "copy", op, from: part[i] as "u" | "g" | "o" });
        i++;
        continue;
      }
      let bits = 0;
      let x = false;
      for (; i < part.length && "rwxXst".includes(part[i]!); i++) {
        switch (part[i]) {
          case "r": bits |= 0o444; break;
          case "w": bits |= 0o222; break;
          case "x": bits |= 0o111; break;
          case "X": if (op === "-") bits |= 0o111; else x = true; break;
          // set-id bits only for who that includes u or g (or none given); sticky likewise
          case "s": if (who === 0 || (who & ~O) !== 0) bits |= 0o6000; break;
          case "t": if (who === 0 || (who & ~O) !== 0) bits |= STICKY; break;
        }
      }
      actions.push({ kind: "bits", op, bits, x });
    }
    clauses.push({ who, actions });
  }
  return clauses;
}

const SHIFT = { u: 6, g: 3, o: 0 } as const;

function applyClauses(clauses: Clause[], mode: number, isDir: boolean): number {
  const original = mode & 0o7777;
  let m = original;
  for (const { who, actions } of clauses) {
    const mask = who === 0 ? 0o7777 : who | STICKY;
    for (const a of actions) {
      if (a.kind === "copy") {
        const value = (m >> SHIFT[a.from]) & 7;
        for (const [cls, shift] of [["u", 6], ["g", 3], ["o", 0]] as const) {
          const classBits = cls === "u" ? U : cls === "g" ? G : O;
          if (who !== 0 && (who & classBits & 0o777) === 0) continue;
          if (a.op === "=") m &= ~(7 << shift);
          if (a.op === "-") m &= ~(value << shift);
          else m |= value << shift;
        }
        continue;
      }
      let bits = a.bits;
      if (a.x && ((original & 0o111) !== 0 || isDir)) bits |= 0o111;
      if (a.op === "=") {
        // "=" clears what `who` covers (the sticky bit only when t is given), then sets.
        const clear = (who === 0 ? ALL : who) | (a.bits & STICKY);
        m &= ~clear;
        m |= bits & mask;
      } else if (a.op === "+") m |= bits & mask;
      else m &= ~(bits & mask);
    }
  }
  return m & 0o7777;
}

/**
 * Parses a --chmod value into a function from an entry's current mode to its new mode.
 * Octal values must lie within 0–07777; anything else must be a valid symbolic mode.
 */
export function parseChmod(spec: string): ChmodFn {
  if (/^[0-7]+$/.test(spec)) {
    const value = parseInt(spec, 8);
    if (value > 0o7777) throw invalid(spec);
    const fn = ((_mode: number, _isDir: boolean) => value) as ChmodFn;
    Object.defineProperty(fn, "octal", { value });
    return fn;
  }
  if (spec === "" || /^[0-9]/.test(spec)) throw invalid(spec);
  const clauses = parseSymbolic(spec);
  return ((mode: number, isDir: boolean) => applyClauses(clauses, mode, isDir)) as ChmodFn;
}
