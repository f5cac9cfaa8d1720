// Aftermarket firmware on the bmminer base (Vnish, Hiveon, ASICseer, MSKminer, Blissz, early Braiins
// OS): the stock `stats` layout plus the fields each one adds (CGMINER-API.md §8.2).
import { leadingNumber, nonNegative, positive, type Rec, str, sumAll, watts } from '../values.js';
import { chainIndexes, deviceRecord, parseAntminer } from './antminer.js';
import type { DialectInput, Telemetry } from './common.js';

/** Wall power where the firmware measures or estimates it. */
function aftermarketPower(device: Rec): number | null {
  // Hiveon / MSKminer: total_power, or per-chain chain_powerN with a "967.50 (AB)" total string.
  const total = watts(device.total_power) ?? positive(leadingNumber(device.chain_power));
  if (total !== null) return total;
  const indexes = chainIndexes(device);
  const perChain = (prefix: 'chain_power' | 'chain_consumption') =>
    sumAll(indexes[prefix].map((n) => nonNegative(device[`${prefix}${n}`])));
  // Vnish: chain_consumptionN in watts.
  return perChain('chain_power') ?? perChain('chain_consumption');
}

export function parseAftermarket(input: DialectInput): Telemetry {
  const out = parseAntminer(input);
  const device = deviceRecord(input.replies.section('stats', 'STATS'));
  if (!device) return out;
  out.power_w ??= aftermarketPower(device);
  // Vnish says what it is doing.
  const state = str(device.state)?.toLowerCase();
  if (state === 'mining') out.state = 'mining';
  else if (state !== undefined && /sleep|stop|idle/.test(state)) out.state = 'sleeping';
  // A state that names a fault is the firmware's own verdict: said as an error, whatever the
  // hashrate still shows (the 5 s average lags a board that just failed).
  else if (state !== undefined && /fail|error|fault/.test(state))
    out.errors.push({ code: null, message: `firmware state: ${str(device.state)}` });
  return out;
}
