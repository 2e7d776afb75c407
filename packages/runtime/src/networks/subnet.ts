// IPv4 subnets in CIDR form: parsing, containment, overlap, the gateway and the n-th host.
import { RuntimeError } from "../errors.js";

const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export class Subnet {
  constructor(readonly base: number, readonly prefix: number) {}
  get size(): number { return 2 ** (32 - this.prefix); }
  get cidr(): string { return `${toIp(this.base)}/${this.prefix}`; }
  get gateway(): string { return toIp(this.base + 1); }
  contains(ip: string): boolean {
    if (!IPV4.test(ip)) return false;
    const n = toInt(ip);
    return n >= this.base && n < this.base + this.size;
  }
  overlaps(o: Subnet): boolean {
    return this.base < o.base + o.size && o.base < this.base + this.size;
  }
  /** Host address number `i` (1 = the first after the network address). */
  host(i: number): string { return toIp(this.base + i); }
  /** Usable host numbers: 1 … size-2. */
  get lastHost(): number { return this.size - 2; }
}

export function parseSubnet(s: string, what: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || !IPV4.test(m[1]!) || Number(m[2]) > 30 || Number(m[2]) < 8) throw new RuntimeError(`invalid ${what} ${s}: expected an IPv4 subnet such as 172.31.5.0/24 (prefix 8 to 30)`);
  const prefix = Number(m[2]);
  const n = toInt(m[1]!);
  const base = n - (n % 2 ** (32 - prefix));
  if (base !== n) throw new RuntimeError(`invalid ${what} ${s}: host bits are set (did you mean ${toIp(base)}/${prefix}?)`);
  return new Subnet(base, prefix);
}

/** The network address of `ip` under `prefix` (the host bits cleared). */
export function networkOf(ip: string, prefix: number): string {
  const n = toInt(ip);
  return toIp(n - (n % 2 ** (32 - prefix)));
}
