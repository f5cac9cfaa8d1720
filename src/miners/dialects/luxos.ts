// LuxOS (LUXminer): bmminer-compatible `stats` plus `devs` per board (MH/s, 0-based IDs), `temps`
// with four labelled board sensors, `fans`, `power`, `config` and `events` (CGMINER-API.md §8.4).
// LuxOS reports board sensors only; its `temp_chip*` strings repeat the board readings, so chip
// temperatures stay null rather than being mislabelled.
import { bool, counter, maxOf, num, positive, type Rec, str, sumOf, temp } from '../values.js';
import { deviceRecord, discoverChains, parseClassicStats } from './antminer.js';
import {
  AVERAGE_LABELS,
  applySummaryCounters,
  type BoardDraft,
  CURRENT_LABELS,
  type DialectInput,
  emptyTelemetry,
  fansFromSlots,
  labelledRate,
  type Telemetry,
} from './common.js';

const CORNERS = ['TopLeft', 'TopRight', 'BottomLeft', 'BottomRight'] as const;

/** Which corners are intake/inlet and which exhaust/outlet, from the METADATA labels. */
function cornerRoles(metadata: Rec | undefined): { inlet: string[]; outlet: string[] } {
  const inlet: string[] = [];
  const outlet: string[] = [];
  for (const corner of CORNERS) {
    const entry = metadata?.[corner];
    const label = typeof entry === 'object' && entry !== null ? str((entry as Rec).Label) : null;
    if (label === null) continue;
    if (/intake|inlet/i.test(label)) inlet.push(corner);
    else if (/exhaust|outlet/i.test(label)) outlet.push(corner);
  }
  return { inlet, outlet };
}

export function parseLuxos(input: DialectInput): Telemetry {
  const { replies, spec } = input;
  const device = deviceRecord(replies.section('stats', 'STATS'));
  const out = device ? parseClassicStats(input, device) : emptyTelemetry();
  const summary = replies.section('summary', 'SUMMARY')[0];
  // LuxOS summary GHS fields are GH/s; they are the firmware's own totals.
  out.hashrate.current_hs = labelledRate(summary, CURRENT_LABELS) ?? out.hashrate.current_hs;
  out.hashrate.average_hs = labelledRate(summary, AVERAGE_LABELS) ?? out.hashrate.average_hs;
  applySummaryCounters(out, summary);

  // Boards: devs IDs are 0-based; the stats chains are numbered from 1.
  const chainByDevId = new Map<number, BoardDraft>();
  const chainIndices = device ? discoverChains(device) : [];
  for (const b of out.boards) chainByDevId.set(b.index - (chainIndices[0] ?? 1), b);
  const devs = replies.section(['devs', 'edevs'], 'DEVS');
  const boards = new Map<number, BoardDraft>();
  devs.forEach((dev, i) => {
    const id = counter(dev.ID) ?? counter(dev.ASC) ?? i;
    const chain = chainByDevId.get(id);
    boards.set(id, {
      index: id,
      hashrate_hs: labelledRate(dev, CURRENT_LABELS),
      chips: chain?.chips ?? null,
      chips_expected: chain?.chips_expected ?? spec?.chipsPerBoard ?? null,
      temp_board_c: temp(dev.Temperature),
      temp_chip_c: null,
      frequency_mhz: chain?.frequency_mhz ?? null,
      bad_chips: chain?.bad_chips ?? null,
      firmware_dead: String(dev.Status ?? '').toLowerCase() === 'dead',
    });
  });
  const nominal = sumOf(devs.map((d) => positive(d['Nominal MHS'])));
  if (nominal !== null) out.hashrate.nominal_hs = nominal * 1e6;
  if (boards.size === 0)
    for (const [id, chain] of chainByDevId) boards.set(id, { ...chain, index: id, temp_chip_c: null });

  const roles = cornerRoles(replies.section('temps', 'METADATA')[0]);
  replies.section('temps', 'TEMPS').forEach((reading, i) => {
    const id = counter(reading.ID) ?? i;
    const board = boards.get(id);
    if (!board) return;
    board.temp_board_c = maxOf(CORNERS.map((c) => temp(reading[c]))) ?? board.temp_board_c;
    if (roles.inlet.length > 0) board.temp_inlet_c = maxOf(roles.inlet.map((c) => temp(reading[c])));
    if (roles.outlet.length > 0) board.temp_outlet_c = maxOf(roles.outlet.map((c) => temp(reading[c])));
  });
  out.boards = [...boards.values()].sort((a, b) => a.index - b.index);

  const fans = replies.section('fans', 'FANS');
  if (fans.length > 0) {
    out.fans = fansFromSlots(
      fans.map((fan, i): [number, number | null] => [counter(fan.ID) ?? i, num(fan.RPM)]),
      spec?.fans ?? null,
    );
  }
  out.power_w = positive(replies.section('power', 'POWER')[0]?.Watts) ?? out.power_w;

  const config = replies.section('config', 'CONFIG')[0];
  const cooling = str(config?.Cooling)?.toLowerCase();
  if (bool(config?.ImmersionMode) === true || cooling === 'immersion') out.cooling = 'immersion';
  else if (cooling === 'hydro' || cooling === 'water') out.cooling = 'hydro';
  else if (cooling === 'air') out.cooling = 'air';
  const curtail = str(config?.CurtailMode)?.toLowerCase();
  if (curtail !== undefined && curtail !== 'none') out.state = 'sleeping';
  else if (curtail === 'none') out.state = 'mining';

  for (const event of replies.section('events', 'EVENTS')) {
    out.errors.push({
      code: str(event.Code),
      message: str(event.Description) ?? str(event.Code) ?? 'LuxOS event',
    });
  }
  return out;
}
