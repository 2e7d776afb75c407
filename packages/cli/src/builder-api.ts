// The builder's public types, in one place for the whole CLI.
// TODO(builder): import from "@tbuild/builder" once its index re-exports api-types;
// until then the types come from the builder's compiled declarations.
export type {
  BuildEvent,
  BuildHandle,
  BuildOptions,
  BuildResult,
  OutputSpec,
  SecretSpec,
  StepRef,
  StepResult,
} from "../../builder/dist/api-types.js";
