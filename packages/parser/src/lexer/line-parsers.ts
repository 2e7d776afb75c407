// Per-keyword argument shaping (BuildKit's line_parsers.go): how the text after
// the flags becomes the argument list of the node.

import type { InstructionNode, Range } from "../ast.js";
import { goQuote } from "../text/go-quote.js";
import { goTrimLeft, isGoSpace, splitOnWhitespace, splitOnceOnWhitespace } from "../text/unicode.js";
import { parseJsonArray } from "./json-args.js";
import { splitCommand } from "./split-command.js";
import { parseWords } from "./words.js";

/** Shared empty arrays keep the (large, long-lived) syntax tree small; they are frozen. */
export const EMPTY: never[] = Object.freeze([]) as unknown as never[];

/** Thrown for the few errors BuildKit's line parser itself reports. */
export class LineParseError extends Error {}

interface Shaped {
  args: string[];
  json: boolean;
}

const NONE: Shaped = { args: EMPTY, json: false };

function whitespaceList(rest: string): Shaped {
  return rest === "" ? NONE : { args: splitOnWhitespace(rest), json: false };
}

function maybeJson(rest: string): Shaped {
  if (rest === "") return NONE;
  const arr = parseJsonArray(rest);
  if (arr !== undefined) return { args: arr, json: true };
  return { args: [rest], json: false };
}

function maybeJsonToList(rest: string): Shaped {
  const arr = parseJsonArray(rest);
  if (arr !== undefined) return { args: arr, json: true };
  return whitespaceList(rest);
}

function oneString(rest: string): Shaped {
  return rest === "" ? NONE : { args: [rest], json: false };
}

function nameVal(rest: string, key: string, esc: number): Shaped {
  const words = parseWords(rest, esc);
  if (words.length === 0) return NONE;
  if (!words[0].includes("=")) {
    // Legacy form `KEY name value`: the rest of the line, as written, is the value.
    const parts = splitOnceOnWhitespace(rest);
    if (parts.length < 2) throw new LineParseError(`${key} must have two arguments`);
    return { args: [parts[0], parts[1] as string, ""], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      throw new LineParseError(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    }
    args.push(word.slice(0, eq), word.slice(eq + 1), "=");
  }
  return { args, json: false };
}

function healthConfig(rest: string): Shaped {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return NONE;
  const cmd = maybeJson(goTrimLeft(rest.slice(sep)));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

function shape(keyword: string, rest: string, esc: number): Shaped {
  switch (keyword.toLowerCase()) {
    case "from":
    case "expose":
      return whitespaceList(rest);
    case "add":
    case "copy":
    case "volume":
      return maybeJsonToList(rest);
    case "run":
    case "cmd":
    case "entrypoint":
    case "shell":
      return maybeJson(rest);
    case "healthcheck":
      return healthConfig(rest);
    case "env":
      return nameVal(rest, "ENV", esc);
    case "label":
      return nameVal(rest, "LABEL", esc);
    case "arg": {
      const words = parseWords(rest, esc);
      return words.length === 0 ? NONE : { args: words, json: false };
    }
    case "maintainer":
    case "user":
    case "workdir":
    case "stopsignal":
      return oneString(rest);
    case "onbuild":
      return NONE; // the nested instruction is handled by parseLine
    default:
      // Unknown instructions parse with a single empty argument; they are rejected later.
      return { args: [""], json: false };
  }
}

/**
 * Shapes one logical instruction line into a node (BuildKit newNodeFromLine
 * without the heredoc part); range, text, comments and heredocs are filled in
 * by the caller. ONBUILD nests the rest of its line as a child instruction;
 * chains of ONBUILD are unrolled in a loop so that no input can exhaust the stack.
 */
export function parseLine(line: string, esc: number, range: Range, text: string): InstructionNode {
  let original = line;
  let root: InstructionNode | undefined;
  let parent: InstructionNode | undefined;
  for (;;) {
    const { keyword, flags, rest } = splitCommand(original, esc);
    const isOnbuild = keyword.length === 7 && keyword.toLowerCase() === "onbuild";
    const s = isOnbuild ? NONE : shape(keyword, rest, esc);
    // Every node is created with all fields in one order, so they share one hidden class.
    const node: InstructionNode = {
      keyword,
      flags: flags.length === 0 ? EMPTY : flags,
      args: s.args,
      json: s.json,
      heredocs: EMPTY,
      original,
      text,
      range,
      comments: EMPTY,
      child: undefined,
    };
    if (parent) parent.child = node;
    else root = node;
    if (!isOnbuild || rest === "") return root as InstructionNode;
    parent = node;
    original = rest;
  }
}
