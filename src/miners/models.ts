// What we know about models that the replies do not say: hashing algorithm (which decides the unit
// of `GHS 5s`, CGMINER-API.md §9), chips per hash board and fan count (to tell a dead chip or fan
// from a model that never had one). Only values we are sure of are listed; unknown means null.

export type Algorithm =
  | 'sha256d'
  | 'scrypt'
  | 'x11'
  | 'ethash'
  | 'equihash'
  | 'tensority'
  | 'kheavyhash'
  | 'eaglesong'
  | 'handshake'
  | 'blake2s'
  | 'blake3'
  | 'blake256r14'
  | 'unknown';

export interface ModelSpec {
  algorithm: Algorithm;
  chipsPerBoard?: number;
  fans?: number;
  /** Hash boards the model is built with, where every unit of it has the same number. */
  boards?: number;
}

/** `"S19 Pro"` → `"s19pro"`, `"S21 XP Hyd."` → `"s21xphyd"`, `"L3+"` → `"l3+"`. */
export function modelKey(model: string): string {
  return model.toLowerCase().replace(/[\s.\-_]/g, '');
}

const ANTMINER: Record<string, ModelSpec> = {
  // S7: two fans, though its stats count six fan slots (fan_num 6, fan1 and fan3 spinning).
  s7: { algorithm: 'sha256d', chipsPerBoard: 45, fans: 2, boards: 3 },
  s9: { algorithm: 'sha256d', chipsPerBoard: 63, fans: 2, boards: 3 },
  s9i: { algorithm: 'sha256d', chipsPerBoard: 63, fans: 2, boards: 3 },
  s9j: { algorithm: 'sha256d', chipsPerBoard: 63, fans: 2, boards: 3 },
  s9k: { algorithm: 'sha256d', chipsPerBoard: 60, fans: 2, boards: 3 },
  s17: { algorithm: 'sha256d', chipsPerBoard: 48, fans: 4, boards: 3 },
  s17pro: { algorithm: 'sha256d', chipsPerBoard: 48, fans: 4, boards: 3 },
  's17+': { algorithm: 'sha256d', chipsPerBoard: 65, fans: 4, boards: 3 },
  t17: { algorithm: 'sha256d', chipsPerBoard: 30, fans: 4, boards: 3 },
  't17+': { algorithm: 'sha256d', chipsPerBoard: 44, fans: 4, boards: 3 },
  s19: { algorithm: 'sha256d', chipsPerBoard: 76, fans: 4, boards: 3 },
  s19pro: { algorithm: 'sha256d', chipsPerBoard: 114, fans: 4, boards: 3 },
  s19jpro: { algorithm: 'sha256d', chipsPerBoard: 126, fans: 4, boards: 3 },
  s19xp: { algorithm: 'sha256d', chipsPerBoard: 110, fans: 4, boards: 3 },
  s19kpro: { algorithm: 'sha256d', chipsPerBoard: 77, fans: 4, boards: 3 },
  s19x88: { algorithm: 'sha256d', chipsPerBoard: 88, fans: 4, boards: 3 },
  s1988: { algorithm: 'sha256d', chipsPerBoard: 88, fans: 4, boards: 3 },
  s21: { algorithm: 'sha256d', chipsPerBoard: 108, fans: 4, boards: 3 },
  s21pro: { algorithm: 'sha256d', chipsPerBoard: 65, fans: 4, boards: 3 },
  t21: { algorithm: 'sha256d', chipsPerBoard: 108, fans: 4, boards: 3 },
  // Water-cooled models (pyasic's tables): no fans, and boards of their own.
  s19hyd: { algorithm: 'sha256d', chipsPerBoard: 104, boards: 4 },
  s19prohyd: { algorithm: 'sha256d', chipsPerBoard: 180, boards: 4 },
  's19pro+hyd': { algorithm: 'sha256d', chipsPerBoard: 180, boards: 4 },
  s19xphyd: { algorithm: 'sha256d', chipsPerBoard: 204, boards: 3 },
  s21hyd: { algorithm: 'sha256d', chipsPerBoard: 216, boards: 2 },
  'l3+': { algorithm: 'scrypt', chipsPerBoard: 72, fans: 2, boards: 4 },
  'l3++': { algorithm: 'scrypt', chipsPerBoard: 72, fans: 2, boards: 4 },
  l7: { algorithm: 'scrypt', chipsPerBoard: 120, fans: 4 },
  d3: { algorithm: 'x11', chipsPerBoard: 60, fans: 2, boards: 3 },
  e3: { algorithm: 'ethash', fans: 2 },
  z9: { algorithm: 'equihash', fans: 2 },
  z11: { algorithm: 'equihash', chipsPerBoard: 3, fans: 2 },
  z15: { algorithm: 'equihash', chipsPerBoard: 3, fans: 2 },
  z15pro: { algorithm: 'equihash', fans: 2 },
  b3: { algorithm: 'tensority' },
  // Bitmain's other coins (chip, board and fan counts as pyasic lists them). Their GHS fields and
  // new_api rates are GH/s, as SHA-256's: a KS5 board reads rate_real ≈ 6528 of its 20 TH/s. Named so
  // that `live` keeps each out of the others' totals (they were all one "unknown" bucket).
  ks3: { algorithm: 'kheavyhash', chipsPerBoard: 92 },
  ks5: { algorithm: 'kheavyhash', chipsPerBoard: 92, fans: 4, boards: 3 },
  ks5pro: { algorithm: 'kheavyhash' },
  k7: { algorithm: 'eaglesong', chipsPerBoard: 92, fans: 4 },
  hs3: { algorithm: 'handshake', chipsPerBoard: 92, fans: 4, boards: 3 },
  ka3: { algorithm: 'blake2s', chipsPerBoard: 92 },
  al1: { algorithm: 'blake3' },
  al1pro: { algorithm: 'blake3' },
  dr5: { algorithm: 'blake256r14' },
  d9: { algorithm: 'x11', chipsPerBoard: 126 },
  e9pro: { algorithm: 'ethash', chipsPerBoard: 8 },
};

// Families by name prefix when the exact model is not listed (S19j, S21+, L9, D9, …).
const ANTMINER_PREFIX: [RegExp, ModelSpec][] = [
  [/^[st]\d/, { algorithm: 'sha256d' }],
  [/^l\d/, { algorithm: 'scrypt' }],
  [/^ks\d/, { algorithm: 'kheavyhash' }],
  [/^d\d/, { algorithm: 'x11' }],
  [/^e\d/, { algorithm: 'ethash' }],
  [/^z\d/, { algorithm: 'equihash' }],
];

const OTHER_MAKES: Record<string, ModelSpec> = {
  'hammer:d10': { algorithm: 'scrypt' },
  'innosilicon:a9': { algorithm: 'equihash' },
  'innosilicon:a10': { algorithm: 'ethash' },
  'innosilicon:a11': { algorithm: 'ethash' },
  'innosilicon:t3': { algorithm: 'sha256d' },
  'innosilicon:a6': { algorithm: 'scrypt' },
  // Elphapex DG1, DG1+, DG Home 1: scrypt (LTC/DOGE) units on a Bitmain-style firmware.
  'elphapex:dg1': { algorithm: 'scrypt' },
  'elphapex:dg1+': { algorithm: 'scrypt' },
  'elphapex:dghome1': { algorithm: 'scrypt' },
};

/** Makes whose every ASIC hashes SHA-256d, so an unlisted model still has a known algorithm. */
// Makes that have only ever built SHA-256 machines (Auradine: Teraflux, all Bitcoin).
const SHA256_MAKES = new Set(['Whatsminer', 'Avalon', 'SealMiner', 'Spondoolies', 'Auradine']);

/** Makes with one algorithm for every model, listed or not (Elphapex: DG1, DG1+, DG Home, DG2: Scrypt). */
function makeAlgorithm(make: string): ModelSpec | null {
  if (SHA256_MAKES.has(make)) return { algorithm: 'sha256d' };
  return make === 'Elphapex' ? { algorithm: 'scrypt' } : null;
}

export function lookupModel(make: string, model: string | null): ModelSpec | null {
  if (model === null) return makeAlgorithm(make);
  const key = modelKey(model);
  if (make === 'Antminer') {
    // A hydro model is not its air model with water: its boards are others (S21 Hyd.: two of 216
    // chips, not three of 108), so it is read only under its own name.
    const exact = ANTMINER[key.replace(/hydro$/, 'hyd')];
    if (exact) return exact;
    for (const [pattern, spec] of ANTMINER_PREFIX) if (pattern.test(key)) return spec;
    return null;
  }
  const other = OTHER_MAKES[`${make.toLowerCase()}:${key}`];
  if (other) return other;
  return makeAlgorithm(make);
}

/** H/s per unit of an Antminer `GHS …` field: the label says GH/s, the chips say otherwise (§9). */
export function ghsFieldUnit(algorithm: string): number {
  switch (algorithm) {
    case 'scrypt':
    case 'x11':
    case 'ethash':
      return 1e6; // MH/s despite the label (L3+ ≈ 504, D3 ≈ 16 346, E3 ≈ 197)
    case 'equihash':
      return 1e3; // ksol/s (Z11 ≈ 141); some builds report the total in sol/s, see antminer.ts
    default:
      return 1e9;
  }
}

/** H/s per unit of a unit string such as `"GH"`, `"GH/s"`, `"MH"`, `"Ksol/s"`. */
export function unitMultiplier(unit: unknown): number | null {
  if (typeof unit !== 'string') return null;
  const match = /^\s*([kmgtp]?)(h|sol)/i.exec(unit);
  if (!match) return null;
  const prefix = (match[1] ?? '').toLowerCase();
  const scale: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
  return scale[prefix] ?? null;
}

/** Whether a model name marks a water-cooled unit (`S21 XP Hyd.`, `S19 Pro+ Hydro`). */
export function isHydroModel(model: string | null): boolean {
  return model !== null && /\bhyd(ro)?\b|hyd\.?$/i.test(model);
}
