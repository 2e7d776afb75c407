// File operations of the builder: COPY/ADD into a new layer, WORKDIR's mkdir, and user and
// group resolution against an image's /etc/passwd and /etc/group.
export { copy, isGitSource, type CopyRequest, type CopyResult } from "./copy.js";
export { selectSources, sourceTree, type CopySource, type SelectedSource, type SelectedItem, type SelectOptions } from "./select.js";
export { mkdirInLayer, type MkdirOptions } from "./mkdir.js";
export { resolveUser, resolveChown, type ResolvedUser, type Owner } from "./users.js";
export { parseChmod, type ChmodFn } from "./chmod.js";
export { FileOpError, type FileOpErrorCode } from "./errors.js";
export type { ContextIndex, ContextEntry } from "./context-index.js";
export type { SourceEntry } from "./source-tree.js";
export type { HttpOptions } from "./http-source.js";
export { parseGitRef, type GitRef } from "./git-ref.js";
export { resolveGitCommit, type GitOptions } from "./git-source.js";
// Go's filepath.Match and moby/patternmatcher, one implementation in @tbuild/cache.
export { goMatch, containsWildcards, PatternMatcher } from "@tbuild/cache";
