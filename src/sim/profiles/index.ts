// The profile registry: `--profile NAME`, `--profile mix`, `--list-profiles`.
import { UsageError } from '../../errors.js';
import { unit } from '../rng.js';
import type { Profile } from '../types.js';
import { antminerL3plus, antminerS19, antminerS21, antminerS9, hiveonS9, vnishS9 } from './antminer.js';
import { avalon } from './avalon.js';
import { braiinsOs } from './braiins.js';
import { cgminer } from './cgminer.js';
import { luxos } from './luxos.js';
import { whatsminer } from './whatsminer.js';

export const PROFILES: readonly Profile[] = [
  antminerS9,
  antminerS19,
  antminerS21,
  antminerL3plus,
  vnishS9,
  hiveonS9,
  braiinsOs,
  luxos,
  whatsminer,
  avalon,
  cgminer,
];

export function profileNames(): string[] {
  return PROFILES.map((p) => p.name);
}

export function findProfile(name: string): Profile {
  const profile = PROFILES.find((p) => p.name === name);
  if (!profile)
    throw new UsageError(`unknown profile '${name}': use mix or one of ${profileNames().join(', ')}`);
  return profile;
}

/** The profile of miner `index`: fixed, or drawn from the mix by the seed. */
export function profileFor(name: string, seed: number, index: number): Profile {
  if (name !== 'mix') return findProfile(name);
  return PROFILES[Math.floor(unit(seed, index, 'profile') * PROFILES.length)] as Profile;
}
