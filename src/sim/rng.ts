// Deterministic randomness: every choice the farm makes (profile mix, dead boards, failed fans,
// faults, noise) derives from --seed, so two runs with the same flags build the same farm.

/** 32-bit FNV-1a over a string, used to derive independent streams from (seed, miner, purpose). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform number in [0, 1) fixed by its inputs: for one-off per-miner decisions. */
export function unit(seed: number, index: number, purpose: string): number {
  return mix32(hash32(`${seed}:${index}:${purpose}`)) / 4294967296;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: small, fast, good enough for telemetry noise and per-request fault draws. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Roughly normal noise in [-1, 1] (sum of three uniforms), cheap and bounded. */
  noise(): number {
    return (this.next() + this.next() + this.next()) / 1.5 - 1;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
}
