// Mersenne Twister MT19937 seeded the way CPython's random.Random(int) seeds it, with
// randbytes() producing the same bytes as Python's. The workload contexts are defined by
// ../shared/tools/peers/make-workloads.sh (a Python generator); matching its PRNG bit
// for bit makes our contexts byte-identical to the peers' ones, so the harness and the
// peer scripts measure exactly the same data.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A Python-compatible MT19937 generator. */
export class PythonRandom {
  readonly #mt = new Uint32Array(N);
  #mti = N + 1;

  /** Seeds like `random.Random(seed)` for a non-negative integer seed. */
  constructor(seed: number | bigint) {
    let s = BigInt(seed);
    if (s < 0n) s = -s;
    const key: number[] = [];
    while (s > 0n) {
      key.push(Number(s & 0xffffffffn));
      s >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.#initByArray(key);
  }

  #initGenrand(s: number): void {
    const mt = this.#mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.#mti = N;
  }

  #initByArray(key: readonly number[]): void {
    const mt = this.#mt;
    this.#initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  #twist(): void {
    const mt = this.#mt;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.#mti = 0;
  }

  /** The next 32-bit output (CPython's genrand_uint32). */
  uint32(): number {
    if (this.#mti >= N) this.#twist();
    let y = this.#mt[this.#mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * `random.Random.randbytes(n)`: little-endian 32-bit words; a final partial word
   * contributes its most significant bytes (CPython drops the low bits).
   */
  randbytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    const whole = n - (n % 4);
    for (let p = 0; p < whole; p += 4) out.writeUInt32LE(this.uint32(), p);
    const rest = n - whole;
    if (rest > 0) {
      const word = this.uint32() >>> (32 - 8 * rest);
      for (let b = 0; b < rest; b++) out[whole + b] = (word >>> (8 * b)) & 0xff;
    }
    return out;
  }

  /** `random.Random.getrandbits(k)` for 0 < k <= 32. */
  getrandbits32(k: number): number {
    if (k <= 0 || k > 32) throw new RangeError(`getrandbits32: k must be 1..32, got ${k}`);
    return this.uint32() >>> (32 - k);
  }
}
