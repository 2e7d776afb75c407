// Turns a failed build into what the user needs to fix it: the failing step's last
// output lines, the Dockerfile excerpt with the failing line marked, and the error
// with its exit code, in BuildKit's layout:
//
//   ------
//    > [2/3] RUN make:
//   main.c:3: error: expected ';'
//   ------
//   Dockerfile:3
//   -------------------- … --------------------
//   ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2

import type { BuildEvent } from "../builder-api.js";
import { CommandError } from "../errors.js";
import { ProgressState, type Vertex } from "../progress/state.js";
import { dockerfileExcerpt } from "./dockerfile-excerpt.js";

/** Where to find the Dockerfile text of a build, for the excerpt. */
export interface DockerfileSource {
  /** Display name (path relative to the working directory when possible). */
  name: string;
  text?: string;
}

/** Records what a failure report needs from the event stream (works with any renderer). */
export class FailureCollector {
  private readonly state = new ProgressState(12);

  event(ev: BuildEvent, source?: string): void {
    this.state.apply(ev, source);
  }

  /** Steps that ended in an error, in order. */
  failedSteps(source?: string): Vertex[] {
    return this.state.ordered().filter((v) => v.status === "error" && v.source === source);
  }

  /**
   * Converts the rejection of a build into the error the CLI prints. Errors that format
   * themselves (DockerfileSyntaxError) pass through unchanged.
   */
  describe(err: unknown, dockerfile: DockerfileSource | undefined, source?: string): unknown {
    if (!(err instanceof Error) || typeof (err as { format?: unknown }).format === "function") return err;
    if (err.name === "AbortError") return err;
    const failed = this.failedSteps(source);
    const step = failed[0] ?? stepOf(err, this.state, source);
    const parts: string[] = [];
    if (step) {
      parts.push("------", ` > ${step.label}:`);
      for (const l of step.logs) parts.push(l.text);
      parts.push("------");
      if (dockerfile?.text !== undefined) {
        const excerpt = dockerfileExcerpt(dockerfile.text, step.step.line, dockerfile.name, 2, locationOf(err));
        if (excerpt) parts.push(excerpt);
      }
    }
    let message = err.message;
    const code = exitCodeOf(err);
    if (code !== undefined && !/exit code/i.test(message)) message += `: exit code: ${code}`;
    if (source) message = `${source}: ${message}`;
    return new CommandError(message, { detail: parts.length ? parts.join("\n") : undefined, cause: err });
  }
}

/** The step an error names itself (a `step` property with a StepRef id), if any. */
function stepOf(err: Error, state: ProgressState, source?: string): Vertex | undefined {
  const ref = (err as { step?: { id?: unknown } }).step;
  if (!ref || typeof ref.id !== "string") return undefined;
  return state.ordered().find((v) => v.step.id === ref.id && v.source === source);
}

/** The word an error points at (a StepError's `location`: a missing COPY source), if any. */
function locationOf(err: Error): { line: number; column: number } | undefined {
  const at = (err as { location?: { line?: unknown; column?: unknown } }).location;
  return typeof at?.line === "number" && typeof at.column === "number" ? { line: at.line, column: at.column } : undefined;
}

function exitCodeOf(err: Error): number | undefined {
  const code = (err as { exitCode?: unknown }).exitCode;
  return typeof code === "number" ? code : undefined;
}
