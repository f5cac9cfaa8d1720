// `hashctl scan`'s library: targets × ports → one outcome per endpoint (miner / open / none).
export { AdaptiveGate, exhaustionCode, LOCAL_EXHAUSTION_CODES } from './gate.js';
export { type FirstStage, Identifier, type IdentifyOptions, isMinerReply } from './identify.js';
export { formatProgress } from './progress.js';
export { buildInventory, type ScanHandlers, type ScanReport, scan } from './run.js';
export { buildScanTargets, MAX_SCAN_PORTS, parsePortList, withoutAliases } from './targets.js';
export type {
  ScanInventory,
  ScanOptions,
  ScanOutcome,
  ScanProgress,
  ScanResult,
  ScanSummary,
} from './types.js';
