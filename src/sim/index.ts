// Public entry of the simulator, for `hashctl simulate`, tests and benchmarks.
export { parseAddresses } from './addresses.js';
export { type Farm, type FarmOptions, type SimMiner, startFarm } from './farm.js';
export { parseFaults, parseShare } from './faults.js';
export { findProfile, PROFILES, profileNames } from './profiles/index.js';
export type {
  AccessMode,
  CommandLogEntry,
  FaultSpec,
  MinerFaults,
  MinerState,
  Profile,
  SimBoard,
  SimFan,
  SimPool,
  WritesOverride,
} from './types.js';
