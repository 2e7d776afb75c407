// Instruction flags (BuildKit's BFlags): each instruction declares the flags it
// accepts; parseFlags checks the words the line parser extracted. Most
// instructions have no flags, so that case allocates nothing.

import { EMPTY } from "../lexer/line-parsers.js";
import { withSuggestion } from "../text/suggest.js";
import { InstructionError } from "./instruction-error.js";

export type FlagType = "bool" | "string" | "strings";

/** The flags an instruction accepts, by name. */
export type FlagSpec = Readonly<Record<string, FlagType>>;

/** Values of the flags that were given (absent names were not used). */
export type ParsedFlags = ReadonlyMap<string, string | string[]>;

const NONE: ParsedFlags = new Map();

/** Checks the flag words against `spec`; throws InstructionError with BuildKit's messages. */
export function parseFlags(words: readonly string[], spec: FlagSpec): ParsedFlags {
  if (words.length === 0) return NONE;
  const out = new Map<string, string | string[]>();
  for (const word of words) {
    // `--` ends the flags (POSIX utility syntax).
    if (word === "--") break;
    if (!word.startsWith("--")) throw new InstructionError(`arg should start with -- : ${word}`, word);
    const eq = word.indexOf("=");
    const flagName = eq < 0 ? word : word.slice(0, eq);
    const hasValue = eq >= 0;
    const value = hasValue ? word.slice(eq + 1) : "";
    const name = flagName.slice(2);
    const type = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (!type) throw new InstructionError(withSuggestion(`unknown flag: ${flagName}`, name, Object.keys(spec)), flagName);
    const prev = out.get(name);
    if (prev !== undefined && type !== "strings") throw new InstructionError(`duplicate flag specified: ${flagName}`, word);
    if (type === "bool") {
      if (hasValue && value === "") throw new InstructionError(`missing a value on flag: ${flagName}`, flagName);
      const v = value.toLowerCase();
      if (v === "true" || v === "") out.set(name, "true");
      else if (v === "false") out.set(name, "false");
      else throw new InstructionError(`expecting boolean value for flag ${flagName}, not: ${value}`, flagName);
    } else {
      if (!hasValue) throw new InstructionError(`missing a value on flag: ${flagName}`, flagName);
      if (type === "string") out.set(name, value);
      else if (prev === undefined) out.set(name, [value]);
      else (prev as string[]).push(value);
    }
  }
  return out;
}

/** A string flag's value, when given. */
export function flagString(f: ParsedFlags, name: string): string | undefined {
  return f.get(name) as string | undefined;
}

/** A bool flag's value (false when not given). */
export function flagBool(f: ParsedFlags, name: string): boolean {
  return f.get(name) === "true";
}

/** A bool flag's value when given, undefined otherwise. */
export function flagBoolIfUsed(f: ParsedFlags, name: string): boolean | undefined {
  const v = f.get(name);
  return v === undefined ? undefined : v === "true";
}

/** All values of a repeatable flag. */
export function flagStrings(f: ParsedFlags, name: string): string[] {
  return (f.get(name) as string[] | undefined) ?? EMPTY;
}
