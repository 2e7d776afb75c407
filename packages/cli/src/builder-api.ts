// The builder's public types, in one place for the whole CLI (type-only: importing
// this file loads nothing at run time).
export type {
  BuildEvent,
  BuildHandle,
  BuildOptions,
  BuildResult,
  CacheExportSpec,
  CacheImportSpec,
  ChangedInput,
  StepCacheInfo,
  OutputSpec,
  SecretSpec,
  StepRef,
  StepResult,
  Ulimit,
} from "@tbuild/builder";
