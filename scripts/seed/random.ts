/**
 * A small seeded pseudo-random generator for the synthetic-data seeder: sfc32 (Chris Doty-Humphrey's
 * Small Fast Counter, 128 bits of state, passes PractRand) seeded through splitmix32, plus the few
 * helpers the generators need. Every stream is derived from `(seed, ...stream)`, so a patient's
 * family depends only on the run's seed and the patient's number, never on what came before it —
 * the same `--seed` gives byte-identical data whatever the bundle size or the order of generation.
 * https://pracrand.sourceforge.net/RNG_engines.txt
 */

/** One step of splitmix32: a well-mixed 32-bit output from a 32-bit counter. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes a run seed and stream numbers into one 32-bit value. */
function mixKey(seed: number, stream: readonly number[]): number {
  let h = splitmix32(seed >>> 0);
  for (const part of stream) h = splitmix32((h ^ splitmix32(part >>> 0)) >>> 0);
  return h;
}

/** A deterministic random stream with the helpers the seed generators use. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** The stream for `seed` and the stream path `stream` (for example `[STREAM_PATIENT, 17]`). */
  constructor(seed: number, ...stream: number[]) {
    const key = mixKey(seed, stream);
    this.a = splitmix32(key);
    this.b = splitmix32(this.a);
    this.c = splitmix32(this.b);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32-bit unsigned integer (sfc32). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** One element, chosen with the given relative weights (same length as `items`). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i];
      if (r < 0) return items[i];
    }
    return items[items.length - 1];
  }

  /** A string of `length` decimal digits (leading zeros allowed). */
  digits(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += String(Math.floor(this.next() * 10));
    return out;
  }

  /** A version-4-shaped UUID drawn from the stream (RFC 4122 §4.4 layout, deterministic bits). */
  uuid(): string {
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    const w = [this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32()];
    w[1] = ((w[1] & 0xffff0fff) | 0x00004000) >>> 0;
    w[2] = ((w[2] & 0x3fffffff) | 0x80000000) >>> 0;
    const s = w.map(hex).join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
  }
}
