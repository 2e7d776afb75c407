// COPY and ADD.
// Objects are written out field by field (see convert-common.ts on why not spread).

import type { InstructionNode, RawHeredoc } from "../ast.js";
import { EMPTY } from "../lexer/line-parsers.js";
import { parseHeredocWord } from "../lexer/heredoc.js";
import { chompTabs, originalOf } from "./convert-common.js";
import { flagBool, flagBoolIfUsed, flagString, flagStrings, parseFlags } from "./flags.js";
import { InstructionError } from "./instruction-error.js";
import type { AddInstruction, CopyInstruction, Heredoc } from "./types.js";

const COPY_FLAGS = { chown: "string", from: "string", chmod: "string", link: "bool", exclude: "strings", parents: "bool" } as const;
const ADD_FLAGS = { chown: "string", chmod: "string", link: "bool", "keep-git-dir": "bool", checksum: "string", unpack: "bool", exclude: "strings" } as const;

function heredocWord(word: string): ReturnType<typeof parseHeredocWord> {
  if (word.indexOf("<<") < 0) return undefined;
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined; // BuildKit's MustParseHeredoc ignores errors
  }
}

interface Parts {
  sources: string[];
  heredocs: Heredoc[];
  dest: string;
}

/** Splits the arguments into source paths, inline (heredoc) sources and the destination. */
function sourcesAndDest(node: InstructionNode, name: string): Parts {
  const args = node.args;
  if (args.length < 2) {
    throw new InstructionError(`${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const dest = args[args.length - 1];
  if (heredocWord(dest)) throw new InstructionError(`${name} cannot accept a heredoc as a destination`, dest);
  const sources: string[] = [];
  let heredocs: Heredoc[] = EMPTY;
  let bodies: Map<string, RawHeredoc> | undefined;
  for (let i = 0; i < args.length - 1; i++) {
    const src = args[i];
    const h = heredocWord(src);
    if (!h) {
      sources.push(src);
      continue;
    }
    bodies ??= new Map(node.heredocs.map((d) => [d.name, d]));
    // The body comes from the heredoc read for that name (empty if none was read, e.g. in JSON form).
    const raw = bodies.get(h.name)?.content ?? "";
    const doc: Heredoc = { name: h.name, content: h.chomp ? chompTabs(raw) : raw, rawContent: raw, expand: h.expand, chomp: h.chomp };
    if (h.fd !== undefined) doc.fd = h.fd;
    if (heredocs === EMPTY) heredocs = [];
    heredocs.push(doc);
  }
  return { sources, heredocs, dest };
}

export function convertCopy(node: InstructionNode): CopyInstruction {
  const flags = parseFlags(node.flags, COPY_FLAGS);
  const p = sourcesAndDest(node, "COPY");
  const r = node.range;
  const out: CopyInstruction = {
    kind: "copy",
    keyword: node.keyword,
    range: r,
    line: r.start.line,
    text: node.text,
    original: originalOf(node),
    sources: p.sources,
    dest: p.dest,
    heredocs: p.heredocs,
    link: flagBool(flags, "link"),
    parents: flagBool(flags, "parents"),
    excludes: flagStrings(flags, "exclude"),
    json: node.json,
  };
  if (flags.size === 0) return out;
  const from = flagString(flags, "from");
  const chown = flagString(flags, "chown");
  const chmod = flagString(flags, "chmod");
  if (from) out.from = from;
  if (chown) out.chown = chown;
  if (chmod) out.chmod = chmod;
  return out;
}

export function convertAdd(node: InstructionNode): AddInstruction {
  const flags = parseFlags(node.flags, ADD_FLAGS);
  const p = sourcesAndDest(node, "ADD");
  const r = node.range;
  const out: AddInstruction = {
    kind: "add",
    keyword: node.keyword,
    range: r,
    line: r.start.line,
    text: node.text,
    original: originalOf(node),
    sources: p.sources,
    dest: p.dest,
    heredocs: p.heredocs,
    link: flagBool(flags, "link"),
    excludes: flagStrings(flags, "exclude"),
    json: node.json,
  };
  if (flags.size === 0) return out;
  const chown = flagString(flags, "chown");
  const chmod = flagString(flags, "chmod");
  const checksum = flagString(flags, "checksum");
  if (chown) out.chown = chown;
  if (chmod) out.chmod = chmod;
  if (checksum) out.checksum = checksum;
  const keepGitDir = flagBoolIfUsed(flags, "keep-git-dir");
  const unpack = flagBoolIfUsed(flags, "unpack");
  if (keepGitDir !== undefined) out.keepGitDir = keepGitDir;
  if (unpack !== undefined) out.unpack = unpack;
  return out;
}
