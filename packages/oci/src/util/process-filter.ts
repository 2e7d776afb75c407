// A child process used as a stream filter (stdin → stdout), e.g. `zstd -c`. Errors from the
// process (non-zero exit) surface as stream errors carrying its stderr, before end-of-stream,
// so a consumer never mistakes a failed filter's partial output for complete data.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { Duplex } from "node:stream";
import { OciError } from "../errors.js";

export class ProcessFilter extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = "";
  private stdinError: Error | undefined;

  /** `what` names the operation in error messages ("zstd compression"). */
  constructor(command: string, args: string[], what: string, hint = "") {
    super();
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const child = this.child;
    child.stdout.on("data", (b: Buffer) => {
      if (!this.push(b)) child.stdout.pause();
    });
    child.stderr.on("data", (b: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += b.toString();
    });
    child.stdin.on("error", (e) => (this.stdinError = e));
    child.on("error", (e) => {
      this.destroy(new OciError("TOOL_FAILED", `${what}: could not start ${command} (${e.message})${hint ? `; ${hint}` : ""}.`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      if (this.destroyed) return;
      if (code !== 0) {
        const detail = this.stderr.trim().split("\n").slice(-3).join("; ") || (signal ? `killed by ${signal}` : `exit status ${code}`);
        this.destroy(new OciError("TOOL_FAILED", `${what} failed: ${detail}`));
      } else if (this.stdinError) {
        this.destroy(this.stdinError);
      } else {
        this.push(null);
      }
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // Call back only once the pipe has taken the bytes: callers may then reuse the chunk's memory.
    this.child.stdin.write(chunk, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    cb(err);
  }
}
