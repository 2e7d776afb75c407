// The host's network tools (iproute2's ip, iptables), run with arguments, never a shell.
import { execFile } from "node:child_process";
import { RuntimeError } from "../errors.js";

function run(tool: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { encoding: "utf8" }, (err, stdout, stderr) => {
      if (err) reject(new RuntimeError(`${tool} ${args.join(" ")} failed: ${(stderr || err.message).trim()}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

export const ip = (...args: string[]) => run("ip", args);
export const iptables = (...args: string[]) => run("iptables", ["-w", ...args]);

/** Runs a command that may fail harmlessly (removing what may already be gone). */
export async function quietly(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch {
    return false;
  }
}
