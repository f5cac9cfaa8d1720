// The normalized snapshot (hashctl.md §5). The zod schema in ./schema.ts must match this shape.
export interface Board {
  index: number;
  hashrate_hs: number | null;
  chips: number | null;
  chips_expected: number | null;
  temp_board_c: number | null;
  temp_chip_c: number | null;
  /** Inlet/outlet where the firmware reports them separately (Whatsminer, S19+ PCB sensors). */
  temp_inlet_c?: number | null;
  temp_outlet_c?: number | null;
  frequency_mhz: number | null;
  /** 'ok' | 'dead' | 'degraded' | 'unknown' */
  status: string;
}

export interface Fan {
  index: number;
  rpm: number | null;
}

export interface Pool {
  index: number;
  url: string;
  user: string | null;
  status: string | null;
  priority: number | null;
  active: boolean;
  accepted: number | null;
  rejected: number | null;
}

export interface Snapshot {
  make: string;
  model: string | null;
  firmware: { name: string | null; version: string | null };
  algorithm: string;
  hashrate: { current_hs: number | null; average_hs: number | null; nominal_hs: number | null };
  uptime_s: number | null;
  accepted: number | null;
  rejected: number | null;
  hw_errors: number | null;
  boards: Board[];
  fans: Fan[];
  temp_max_chip_c: number | null;
  temp_max_board_c: number | null;
  /** Hottest inlet reading where one exists (thermal checks use it). */
  temp_inlet_c?: number | null;
  power_w: number | null;
  efficiency_j_per_th: number | null;
  pools: Pool[];
  errors: { code: string | number | null; message: string }[];
  /** 'mining' | 'sleeping' | 'unknown' */
  state?: string;
  /** 'air' | 'hydro' | 'immersion' | null, where the replies tell */
  cooling?: string | null;
  /** Whatsminer's `Power Mode`, lower-case ('normal', 'high', 'low'); absent elsewhere. */
  power_mode?: string;
}
