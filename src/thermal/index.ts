// The thermal library's public surface (commands, collect and audit import from here).
export { evaluateThermal, levelFor, thermalReadings } from './evaluate.js';
export {
  effectiveLimits,
  limitsFor,
  detectCooling,
  isHydroModel,
  CLASS_DEFAULTS,
  CHIP_DEFAULTS,
  MODEL_RULES,
  type LimitContext,
} from './limits.js';
export {
  nextThermalState,
  trackThermal,
  type ThermalMemory,
  type ThermalStep,
  type ThermalTransition,
} from './hysteresis.js';
export {
  assessPosture,
  postureReport,
  documentedTrip,
  type PostureFinding,
  type PostureReport,
  type PostureSeverity,
} from './posture.js';
export { readFirmwareLimits, coolingFromReplies, type Replies } from './replies.js';
export { parseThermalConfig, thermalConfigSchema, type ThermalConfig } from './config.js';
export {
  checkSource,
  summarize,
  checkExitCode,
  atOrAbove,
  type CheckResult,
  type CheckSource,
  type CheckSummary,
  type ThermalMemoryStore,
} from './check.js';
export type * from './types.js';
export { METRICS, METRIC_INFO, COOLING_CLASSES } from './types.js';
