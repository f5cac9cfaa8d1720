export {
  collectLoop,
  runCycle,
  pollOne,
  type CollectLoopDeps,
  type CollectLoopOptions,
  type CollectLoopResult,
  type CycleReport,
  type FetchSnapshot,
  type PollAll,
} from './cycle.js';
export { nextSlot, type NextSlot } from './schedule.js';
export { chooseConcurrency, DEFAULT_COLLECT_CONCURRENCY } from './limits.js';
export * from './farm.js';
export * from './series.js';
export { findMiner, parseMinerArg, readLiveThermal, readSeries } from './read.js';
export { trackCycleThermal, type ThermalCycleSummary, type TrackedCycle } from './thermal.js';
