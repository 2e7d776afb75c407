// COPY and ADD.

import type { InstructionNode } from "../ast.js";
import { parseHeredocWord } from "../lexer/heredoc.js";
import { baseOf, chompTabs } from "./convert-common.js";
import { FlagSet } from "./flags.js";
import { InstructionError } from "./instruction-error.js";
import type { AddInstruction, CopyInstruction, Heredoc } from "./types.js";

function isHeredocWord(word: string): ReturnType<typeof parseHeredocWord> {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined; // BuildKit's MustParseHeredoc ignores errors
  }
}

/** Splits the arguments into source paths, inline (heredoc) sources and the destination. */
function sourcesAndDest(node: InstructionNode, name: string): { sources: string[]; heredocs: Heredoc[]; dest: string } {
  const args = node.args;
  if (args.length < 2) {
    throw new InstructionError(`${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const dest = args[args.length - 1];
  if (isHeredocWord(dest)) throw new InstructionError(`${name} cannot accept a heredoc as a destination`, dest);
  const bodies = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of args.slice(0, -1)) {
    const h = isHeredocWord(src);
    if (!h) {
      sources.push(src);
      continue;
    }
    // The body comes from the heredoc read for that name (empty if none was read, e.g. in JSON form).
    const raw = bodies.get(h.name)?.content ?? "";
    const doc: Heredoc = { name: h.name, content: h.chomp ? chompTabs(raw) : raw, rawContent: raw, expand: h.expand, chomp: h.chomp };
    if (h.fd !== undefined) doc.fd = h.fd;
    heredocs.push(doc);
  }
  return { sources, heredocs, dest };
}

export function convertCopy(node: InstructionNode): CopyInstruction {
  const flags = new FlagSet(node.flags);
  flags.addString("chown");
  flags.addString("from");
  flags.addString("chmod");
  flags.addBool("link");
  flags.addStrings("exclude");
  flags.addBool("parents");
  flags.parse();
  const out: CopyInstruction = {
    ...baseOf(node),
    kind: "copy",
    ...sourcesAndDest(node, "COPY"),
    link: flags.bool("link"),
    parents: flags.bool("parents"),
    excludes: flags.strings("exclude"),
    json: node.json,
  };
  const from = flags.stringIfUsed("from");
  const chown = flags.stringIfUsed("chown");
  const chmod = flags.stringIfUsed("chmod");
  if (from !== undefined && from !== "") out.from = from;
  if (chown !== undefined && chown !== "") out.chown = chown;
  if (chmod !== undefined && chmod !== "") out.chmod = chmod;
  return out;
}

export function convertAdd(node: InstructionNode): AddInstruction {
  const flags = new FlagSet(node.flags);
  flags.addString("chown");
  flags.addString("chmod");
  flags.addBool("link");
  flags.addBool("keep-git-dir");
  flags.addString("checksum");
  flags.addBool("unpack");
  flags.addStrings("exclude");
  flags.parse();
  const out: AddInstruction = {
    ...baseOf(node),
    kind: "add",
    ...sourcesAndDest(node, "ADD"),
    link: flags.bool("link"),
    excludes: flags.strings("exclude"),
    json: node.json,
  };
  const chown = flags.stringIfUsed("chown");
  const chmod = flags.stringIfUsed("chmod");
  const checksum = flags.stringIfUsed("checksum");
  if (chown !== undefined && chown !== "") out.chown = chown;
  if (chmod !== undefined && chmod !== "") out.chmod = chmod;
  if (checksum !== undefined && checksum !== "") out.checksum = checksum;
  const keepGitDir = flags.boolIfUsed("keep-git-dir");
  const unpack = flags.boolIfUsed("unpack");
  if (keepGitDir !== undefined) out.keepGitDir = keepGitDir;
  if (unpack !== undefined) out.unpack = unpack;
  return out;
}
