// The progress line drawn on stderr while a scan runs (only on a TTY, never with --json or --quiet).
import { formatDuration } from '../util/duration.js';
import type { ScanProgress } from './types.js';

/** `1,204/4,094 checked · 310 miners · 2 open · 2,410/s · ETA 1s`. */
export function formatProgress(progress: ScanProgress): string {
  const { total, checked, miners, open, elapsedMs } = progress;
  const rate = elapsedMs > 0 ? (checked / elapsedMs) * 1000 : 0;
  const left = total - checked;
  const eta = rate > 0 ? formatDuration((left / rate) * 1000) : '?';
  const n = (value: number) => Math.round(value).toLocaleString('en-US');
  return `${n(checked)}/${n(total)} checked · ${n(miners)} miner${miners === 1 ? '' : 's'} · ${n(open)} open · ${n(rate)}/s · ETA ${left === 0 ? '0s' : eta}`;
}
