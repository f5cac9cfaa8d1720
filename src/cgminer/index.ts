// The client's public surface, for features that talk to miners.
export { createClient, errorFromStatus, isDeniedStatus, type CreateClientOptions } from './client.js';
export { decodeReply, readStatus, splitMultiReply, isOkStatus } from './decode.js';
export {
  addpoolParameter,
  ascsetParameter,
  buildRequest,
  checkCommandName,
  encodeParameter,
} from './escape.js';
export { JOINABLE_COMMANDS, READ_ONLY_COMMANDS, isWriteCommand } from './commands.js';
export { connectionLimit, defaultConcurrency } from './limits.js';
export { backoffDelay, withRetry, type RetryPolicy } from './retry.js';
export type { ClientOptions, DecodedReply, MinerClient, ReplyStatus, RequestOptions } from './types.js';
