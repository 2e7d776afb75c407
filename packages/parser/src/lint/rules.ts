// Build check rules, with BuildKit's rule names (so `# check=skip=<Name>` works
// the same) and our own wording of their descriptions.

import type { Range, Warning } from "../ast.js";

export interface Rule {
  name: string;
  description: string;
  url: string;
}

function rule(name: string, slug: string, description: string): Rule {
  return { name, description, url: `https://docs.docker.com/go/dockerfile/rule/${slug}/` };
}

export const Rules = {
  NoEmptyContinuation: rule("NoEmptyContinuation", "no-empty-continuation", "Empty continuation lines will become errors in a future release"),
  MaintainerDeprecated: rule("MaintainerDeprecated", "maintainer-deprecated", "The MAINTAINER instruction is deprecated; use a label to name the image author"),
  StageNameCasing: rule("StageNameCasing", "stage-name-casing", "Stage names should be lowercase"),
  FromAsCasing: rule("FromAsCasing", "from-as-casing", "The 'as' keyword should match the case of the 'from' keyword"),
  LegacyKeyValueFormat: rule("LegacyKeyValueFormat", "legacy-key-value-format", "Legacy key/value format with whitespace separator should not be used"),
  JSONArgsRecommended: rule("JSONArgsRecommended", "json-args-recommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals"),
  ConsistentInstructionCasing: rule("ConsistentInstructionCasing", "consistent-instruction-casing", "All instructions should use the same casing (either upper or lower)"),
  ReservedStageName: rule("ReservedStageName", "reserved-stage-name", "Reserved words should not be used as stage names"),
  MultipleInstructionsDisallowed: rule("MultipleInstructionsDisallowed", "multiple-instructions-disallowed", "Multiple instructions of the same type should not be used in the same stage"),
  WorkdirRelativePath: rule("WorkdirRelativePath", "workdir-relative-path", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes"),
  SecretsUsedInArgOrEnv: rule("SecretsUsedInArgOrEnv", "secrets-used-in-arg-or-env", "Sensitive data should not be used in the ARG or ENV commands"),
  ExposeProtoCasing: rule("ExposeProtoCasing", "expose-proto-casing", "Protocol in EXPOSE instruction should be lowercase"),
  ExposeInvalidFormat: rule("ExposeInvalidFormat", "expose-invalid-format", "IP address and host-port mapping should not be used in EXPOSE instruction"),
  UndefinedArgInFrom: rule("UndefinedArgInFrom", "undefined-arg-in-from", "FROM command must use declared ARGs"),
  RedundantTargetPlatform: rule("RedundantTargetPlatform", "redundant-target-platform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior"),
  FromPlatformFlagConstDisallowed: rule("FromPlatformFlagConstDisallowed", "from-platform-flag-const-disallowed", "FROM --platform flag should not use a constant value"),
  InvalidDefaultArgInFrom: rule("InvalidDefaultArgInFrom", "invalid-default-arg-in-from", "Default value for global ARG results in an empty or invalid base image name"),
  UndefinedVar: rule("UndefinedVar", "undefined-var", "Variables should be defined before their use"),
} as const;

/** Builds a warning for `r` at `range`. */
export function makeWarning(r: Rule, message: string, range: Range): Warning {
  return { rule: r.name, message, description: r.description, url: r.url, range, line: range.start.line };
}
