// @tbuild/cache — the memory of the engine: a content-addressed blob store with
// layer records, snapshots, images and the step cache index (crash-safe and safe to
// share between processes), usage accounting and pruning, and build-context hashing
// with `.dockerignore` semantics and a persistent stat cache.

export { Store, type StoreOptions, type BlobData } from "./store/store.js";
export { defaultStoreRoot, Layout, LAYOUT_VERSION } from "./store/layout.js";
export type { BlobInfo, ExpectedBlob, CommitOptions } from "./store/blob-writer.js";
export { BlobWriter } from "./store/blob-writer.js";
export type { OpenBlobOptions } from "./store/blob-reader.js";
export type { CacheRecord, CacheRefs } from "./store/cache-index.js";
export type { ImageRecord } from "./store/images.js";
export type { LayerRecord, LayerCompression } from "./store/layers.js";
export type { SnapshotInfo, SnapshotDraft, CommitSnapshotOptions, CommittedSnapshot } from "./store/snapshots.js";
export { Lease, type LeaseRefs, type LeaseMissing } from "./store/leases.js";
export { parseDuration, type PruneOptions, type PruneResult, type DiskUsage, type UsageByKind, type HeldBack, type UsageItem } from "./store/prune.js";
export { chainIDs, isDigest, sha256Digest } from "./util/digest.js";
export { lockFile, tryLockFile, type FileLock } from "./util/file-lock.js";
export { processStartTime, isOwnerAlive, processExists } from "./util/process-info.js";
export { writeFileAtomic, readJsonFile } from "./util/fs-util.js";
export {
  CacheError,
  BlobNotFoundError,
  BlobCorruptedError,
  DigestMismatchError,
  StoreError,
  ContextError,
  PatternError,
} from "./errors.js";

// Build context hashing and .dockerignore.
export {
  hashContext,
  type HashContextOptions,
  type ContextIndex,
  type ContextEntry,
  type ContextHashStats,
} from "./context/context-index.js";
export { PatternMatcher, Pattern, type MatchInfo } from "./context/pattern-matcher.js";
export { goMatch, BadPatternError, containsWildcards, splitWildcards } from "./context/go-match.js";
export { parseIgnoreFile, readIgnoreSpec, type IgnoreSpec } from "./context/ignore-file.js";
export { normalizeContextPath } from "./context/go-path.js";
export { walkContext, type WalkOutput } from "./context/walk.js";
