// The control library's public surface: `hashctl control` and `thermal check --protect` use it.
export { runControlAction, describeAction, isSuccess } from './run.js';
export { planAction, readBack, supportedActions, validateAction, SESSION_PLACEHOLDER } from './dialects.js';
export {
  probeCapabilities,
  probeAllCapabilities,
  type CapabilityResult,
  type CapabilityStatus,
} from './capabilities.js';
export { Redactor, REDACTED, showRequest } from './redact.js';
export { actorName, askPassword, confirmOnTty } from './prompt.js';
export type * from './types.js';
export { ACTION_NAMES, DIALECT_ACTIONS } from './types.js';
