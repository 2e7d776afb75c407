// Instruction flags (BuildKit's BFlags): each instruction declares the flags it
// accepts; parse() checks the words the line parser extracted.

import { withSuggestion } from "../text/suggest.js";
import { InstructionError } from "./instruction-error.js";

type FlagType = "bool" | "string" | "strings";

interface FlagState {
  type: FlagType;
  value?: string;
  values: string[];
  used: boolean;
}

/** The flags of one instruction. */
export class FlagSet {
  private readonly defs = new Map<string, FlagState>();

  constructor(private readonly words: readonly string[]) {}

  private add(name: string, type: FlagType, value?: string): void {
    this.defs.set(name, { type, value, values: [], used: false });
  }
  addBool(name: string): void {
    this.add(name, "bool", "false");
  }
  addString(name: string, def?: string): void {
    this.add(name, "string", def);
  }
  addStrings(name: string): void {
    this.add(name, "strings");
  }

  /** Checks the flag words against the declared flags; throws InstructionError. */
  parse(): void {
    for (const word of this.words) {
      // `--` ends the flags (POSIX utility syntax).
      if (word === "--") return;
      if (!word.startsWith("--")) throw new InstructionError(`arg should start with -- : ${word}`, word);
      const eq = word.indexOf("=");
      const flagName = eq < 0 ? word : word.slice(0, eq);
      const hasValue = eq >= 0;
      const value = hasValue ? word.slice(eq + 1) : "";
      const name = flagName.slice(2);
      const f = this.defs.get(name);
      if (!f) throw new InstructionError(withSuggestion(`unknown flag: ${flagName}`, name, [...this.defs.keys()]), flagName);
      if (f.used && f.type !== "strings") throw new InstructionError(`duplicate flag specified: ${flagName}`, word);
      f.used = true;
      if (f.type === "bool") {
        if (hasValue && value === "") throw new InstructionError(`missing a value on flag: ${flagName}`, flagName);
        const v = value.toLowerCase();
        if (v === "true" || v === "") f.value = "true";
        else if (v === "false") f.value = "false";
        else throw new InstructionError(`expecting boolean value for flag ${flagName}, not: ${value}`, flagName);
      } else {
        if (!hasValue) throw new InstructionError(`missing a value on flag: ${flagName}`, flagName);
        if (f.type === "string") f.value = value;
        else f.values.push(value);
      }
    }
  }

  private get(name: string): FlagState {
    const f = this.defs.get(name);
    if (!f) throw new Error(`flag ${name} was not declared`);
    return f;
  }
  /** Value of a string flag (its default when not given). */
  string(name: string): string | undefined {
    return this.get(name).value;
  }
  /** Value of a string flag only when it was given. */
  stringIfUsed(name: string): string | undefined {
    const f = this.get(name);
    return f.used ? f.value : undefined;
  }
  bool(name: string): boolean {
    return this.get(name).value === "true";
  }
  /** A bool flag's value when given, undefined otherwise. */
  boolIfUsed(name: string): boolean | undefined {
    const f = this.get(name);
    return f.used ? f.value === "true" : undefined;
  }
  strings(name: string): string[] {
    return this.get(name).values;
  }
}
