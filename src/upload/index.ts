// The upload library's public surface (hashctl.md §9). Loaded lazily by `upload` and `collect --upload`.
export {
  buildBatches,
  decodeBatchBody,
  splitBatchBody,
  DEFAULT_BATCH_LIMITS,
  type BatchLimits,
  type BuildBatchesInput,
  type MinerReport,
  type PreparedBatch,
  type UploadBatchBody,
  type UploadMinerEntry,
} from './batch.js';
export { outboxCycleHook, minerReportsOf, type OutboxHookOptions } from './cycle-hook.js';
export { parseEndpoint, UPLOAD_PATH, type UploadEndpoint } from './endpoint.js';
export {
  flushNotes,
  flushOutbox,
  resolveUploadSettings,
  uploadAfterCycle,
  UPLOAD_DEFAULTS,
  type AfterCycleTiming,
  type FlushOptions,
  type FlushReport,
  type FlushStop,
  type UploadSettings,
  type UploadSettingsInput,
} from './flush.js';
export { loadCollectorKey, KEY_ENV } from './key.js';
export { enqueueBatches } from '../store/outbox.js';
