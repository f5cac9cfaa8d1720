// Reading miners for the thermal commands: the normal snapshot, plus the firmware's own thermal
// settings where it exposes them. Read-only commands only: `tempctrl` and `fans` are reports on
// Braiins OS and LuxOS (thermal-facts §3.1); nothing here can change a miner.
import type { MinerClient } from '../cgminer/types.js';
import { MinerError } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import type { Target } from '../targets/types.js';
import type { CheckSource } from './check.js';
import type { Replies } from './replies.js';

/** The commands whose replies carry thermal limits, by firmware family. */
export const POSTURE_COMMANDS = ['tempctrl', 'fans'] as const;

export type FetchSnapshot = (
  client: MinerClient,
  target: Target,
  options: { signal?: AbortSignal },
) => Promise<{ snapshot: Snapshot; replies: Replies }>;

/** Braiins OS and LuxOS report their limits; stock firmwares answer `tempctrl` with "invalid command". */
export function exposesTempctrl(snapshot: Snapshot, replies: Replies): boolean {
  const name = `${snapshot.firmware.name ?? ''}`.toLowerCase();
  if (/bos|braiins|lux/.test(name)) return true;
  const version = replies.version;
  return (
    version !== undefined && 'body' in version && /LUXminer|BOSminer|BOSer/.test(JSON.stringify(version.body))
  );
}

export async function readMiner(
  client: MinerClient,
  fetchSnapshot: FetchSnapshot,
  target: Target,
  site: string | null,
  signal?: AbortSignal,
): Promise<CheckSource> {
  const base = { target: target.key, host: target.host, port: target.port, site };
  let read: { snapshot: Snapshot; replies: Replies };
  try {
    read = await fetchSnapshot(client, target, signal ? { signal } : {});
  } catch (error) {
    // As probe and control show it (hashctl.md §3): kind, message, attempts, and a STATUS's code and msg.
    if (error instanceof MinerError) return { ...base, snapshot: null, error: error.toJSON() };
    throw error;
  }
  const replies: Record<string, Replies[string]> = { ...read.replies };
  if (exposesTempctrl(read.snapshot, replies)) {
    const missing = POSTURE_COMMANDS.filter((command) => !(command in replies));
    if (missing.length > 0) {
      try {
        Object.assign(replies, await client.requestMany(target, missing, signal ? { signal } : {}));
      } catch (error) {
        // The snapshot is still good; only the firmware's own limits are missing. The error stays
        // in their place, so the thermal commands say the read failed (limitsReadError).
        if (!(error instanceof MinerError)) throw error;
        for (const command of missing) replies[command] ??= error;
      }
    }
  }
  return { ...base, snapshot: read.snapshot, replies };
}
