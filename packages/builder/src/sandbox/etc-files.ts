// Contents of /etc/hosts, /etc/resolv.conf and /etc/hostname for a RUN. They are bind
// mounted read-only over the rootfs (never written into it), so they do not end up in
// the layer, as with BuildKit.
import { readFileSync, statSync } from "node:fs";

export const DEFAULT_HOSTNAME = "buildkitsandbox";

/** BuildKit's default hosts file, naming the sandbox's hostname on the loopback address. */
export function defaultEtcHosts(hostname: string): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

let resolvCache: { key: string; text: string } | undefined;

function readHostResolvConf(): string {
  let st;
  try {
    st = statSync("/etc/resolv.conf");
  } catch {
    return "";
  }
  const key = `${st.ino}:${st.mtimeMs}`;
  if (resolvCache?.key === key) return resolvCache.text;
  let text = readFileSync("/etc/resolv.conf", "utf8");
  // systemd-resolved's stub file only names 127.0.0.53; its upstream list is the real one.
  if (/^\s*nameserver\s+127\.0\.0\.53\s*$/m.test(text)) {
    try {
      text = readFileSync("/run/systemd/resolve/resolv.conf", "utf8");
    } catch {
      // keep the stub file
    }
  }
  resolvCache = { key, text };
  return text;
}

const LOOPBACK_NS = /^\s*nameserver\s+(127\.\S*|::1|0\.0\.0\.0)\s*$/;

/**
 * The host's resolv.conf; without host networking, loopback resolvers (systemd-resolved,
 * dnsmasq stubs) cannot be reached from the sandbox's namespace, so they are dropped and,
 * if no resolver is left, public ones are named as BuildKit does.
 */
export function defaultResolvConf(network: "none" | "host" | "default"): string {
  const text = readHostResolvConf();
  if (network !== "none") return text;
  const lines = text.split("\n").filter((l) => !LOOPBACK_NS.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    lines.push("nameserver 8.8.8.8", "nameserver 8.8.4.4", "nameserver 2001:4860:4860::8888", "nameserver 2001:4860:4860::8844");
  }
  return lines.filter((l, i, a) => !(l === "" && i === a.length - 1)).join("\n") + "\n";
}

/** Checks a hostname like sethostname(2) and runc would: 1–64 bytes, no NUL or newline. */
export function validHostname(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 64 && !/[\0\n\r/]/.test(name);
}
