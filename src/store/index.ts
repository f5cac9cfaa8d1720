// The store's public surface: open, lock, write a cycle, maintain, and the table modules.
export {
  assertNotForeign,
  openStore,
  Store,
  DEFAULT_BUSY_TIMEOUT_MS,
  type OpenStoreOptions,
} from './open.js';
export { dbHint, resolveDbPath, lockPathFor } from './paths.js';
export { acquireLock, type LockPurpose, type StoreLock } from './lock.js';
export {
  writeCycle,
  type CycleHook,
  type CycleInput,
  type CycleSummary,
  type MinerOutcome,
  type WrittenCycle,
  type WriteCycleOptions,
} from './cycle.js';
export {
  runMaintenance,
  rollupStatements,
  floorHour,
  historyDeletedBefore,
  HOUR_MS,
  DEFAULT_RETAIN_MS,
  type MaintenanceOptions,
  type MaintenanceResult,
  type HourlyRow,
} from './rollups.js';
export { liveStatements, type LiveRow } from './live.js';
export { historyStatements, type ExportRawRow, type SeriesRow } from './history.js';
export { minerStatements, type MinerRow } from './miners.js';
export { siteStatements, DEFAULT_SITE, siteNameProblem, type SiteRow } from './sites.js';
export { runStatements, type RunRow } from './runs.js';
export { metaStatements } from './meta.js';
export { compactMetrics, type CompactMetrics } from './metrics.js';
export { migrate, schemaVersion, latestVersion, assertIncreasing } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';
export { StoreVersionError, translateSqliteError, withStoreErrors } from './errors.js';
export type { Db, Migration } from './types.js';
