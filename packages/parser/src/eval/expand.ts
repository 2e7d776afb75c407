// Which fields of which instruction are expanded (BuildKit's Expand methods),
// with one variable snapshot for the whole instruction.

import { parseMount } from "../ir/mounts.js";
import type { Heredoc, Instruction } from "../ir/types.js";
import { ShellLex, type VarLookup } from "../shell/lex.js";

/** Expands single words and word lists against a fixed snapshot, recording the names read. */
export interface Expander {
  word(w: string): string;
  words(w: string): string[];
  /** Heredoc bodies: quotes are plain text, `\` escapes, unset variables expand to "". */
  raw(w: string): string;
  readonly used: Set<string>;
}

/** An Expander over `env`; throws the lexer's ShellExpansionError on failure. */
export function makeExpander(lex: ShellLex, env: VarLookup): Expander {
  const used = new Set<string>();
  const rawLex = new ShellLex("\\", { skipProcessQuotes: true });
  const note = (names: string[]) => {
    for (const n of names) used.add(n);
  };
  return {
    used,
    word(w) {
      const r = lex.processWord(w, env);
      note(r.used);
      return r.result;
    },
    words(w) {
      const r = lex.processWords(w, env);
      note(r.used);
      return r.result;
    },
    raw(w) {
      const r = rawLex.processWord(w, env);
      note(r.used);
      return r.result;
    },
  };
}

function expandHeredocs(docs: Heredoc[], x: Expander): Heredoc[] {
  return docs.map((h) => (h.expand ? { ...h, content: x.raw(h.content), rawContent: x.raw(h.rawContent) } : h));
}

/**
 * Returns an expanded copy of `inst` (ARG is handled by the evaluator, since
 * its values are expanded one after another). RUN text, CMD, ENTRYPOINT,
 * SHELL, HEALTHCHECK, MAINTAINER and ONBUILD are not expanded.
 */
export function expandInstruction<I extends Instruction>(inst: I, x: Expander): I {
  const i = inst as Instruction;
  switch (i.kind) {
    case "env":
    case "label":
      return { ...i, pairs: i.pairs.map((p) => ({ key: x.word(p.key), value: x.word(p.value) })) } as I;
    case "expose":
      return { ...i, ports: i.ports.flatMap((p) => x.words(p)) } as I;
    case "volume":
      return { ...i, paths: i.paths.map((p) => x.word(p)) } as I;
    case "user":
      return { ...i, user: x.word(i.user) } as I;
    case "workdir":
      return { ...i, path: x.word(i.path) } as I;
    case "stopsignal":
      return { ...i, signal: x.word(i.signal) } as I;
    case "copy":
    case "add": {
      const out = { ...i, sources: i.sources.map((s) => x.word(s)), dest: x.word(i.dest), heredocs: expandHeredocs(i.heredocs, x) };
      if (i.chown !== undefined) out.chown = x.word(i.chown);
      if (i.chmod !== undefined) out.chmod = x.word(i.chmod);
      if (out.kind === "add" && out.checksum !== undefined) out.checksum = x.word(out.checksum);
      return out as I;
    }
    case "run": {
      if (i.mounts.length === 0) return inst;
      const mounts = i.mounts.map((m) => {
        const full = parseMount(m.raw, (v) => x.word(v));
        return m.fromStage !== undefined && "from" in full && full.from === ("from" in m ? m.from : undefined)
          ? { ...full, fromStage: m.fromStage }
          : full;
      });
      return { ...i, mounts } as I;
    }
    default:
      return inst;
  }
}
