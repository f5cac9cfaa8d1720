export { configPath, loadConfig, parseConfig, type LoadedConfig } from './load.js';
export { configSchema, uploadConfigSchema, type HashctlConfig } from './schema.js';
