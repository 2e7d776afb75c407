export type { Directive, Dockerfile, EscapeToken, InstructionNode, Position, Range, RawHeredoc, Warning } from "./ast.js";
export { DockerfileSyntaxError } from "./errors.js";
export { parseDockerfile, type ParseOptions } from "./lexer/parser.js";
export { dumpBuildkit } from "./dump.js";
export { ShellLex, ShellExpansionError, type ShellLexOptions, type VarLookup } from "./shell/lex.js";
