// miners: the inventory. A miner is (site, host, port); make/model/firmware come from its last
// good snapshot and are kept when a poll fails.
import type { Snapshot } from '../miners/types.js';
import type { Db } from './types.js';

export interface MinerRow {
  id: number;
  site_id: number;
  site: string;
  host: string;
  port: number;
  make: string | null;
  model: string | null;
  firmware_name: string | null;
  firmware_version: string | null;
  nominal_hs: number | null;
  first_seen_at: number;
  last_seen_at: number | null;
}

/** miners.dialect and miners.dialect_statics of one miner (what src/miners/fetch.ts keeps). */
export interface DialectRow {
  host: string;
  port: number;
  dialect: string;
  statics: string | null;
  /** As the last good poll read the miner (what a poll whose own evidence fails is read as). */
  make: string | null;
  model: string | null;
  firmware_name: string | null;
  firmware_version: string | null;
}

interface UpsertParams {
  site_id: number;
  host: string;
  port: number;
  make: string | null;
  model: string | null;
  firmware_name: string | null;
  firmware_version: string | null;
  nominal_hs: number | null;
  now: number;
  seen_at: number | null;
}

/**
 * A different machine now answers at this address (another make, or another model named): what is
 * known of the old one (its model, firmware, rated hashrate) must not be shown as the new one's.
 * Otherwise a poll that did not say something keeps what was known.
 */
const REPLACED = `(excluded.make IS NOT NULL AND (excluded.make IS NOT make
  OR (excluded.model IS NOT NULL AND excluded.model IS NOT model)))`;

export function minerStatements(db: Db) {
  const upsert = db.prepare<UpsertParams, { id: number }>(
    `INSERT INTO miners (site_id, host, port, make, model, firmware_name, firmware_version, nominal_hs,
                         first_seen_at, last_seen_at)
     VALUES (@site_id, @host, @port, @make, @model, @firmware_name, @firmware_version, @nominal_hs, @now, @seen_at)
     ON CONFLICT (site_id, host, port) DO UPDATE SET
       make = CASE WHEN ${REPLACED} THEN excluded.make ELSE coalesce(excluded.make, make) END,
       model = CASE WHEN ${REPLACED} THEN excluded.model ELSE coalesce(excluded.model, model) END,
       firmware_name = CASE WHEN ${REPLACED} THEN excluded.firmware_name
                       ELSE coalesce(excluded.firmware_name, firmware_name) END,
       firmware_version = CASE WHEN ${REPLACED} THEN excluded.firmware_version
                          ELSE coalesce(excluded.firmware_version, firmware_version) END,
       nominal_hs = CASE WHEN ${REPLACED} THEN excluded.nominal_hs ELSE coalesce(excluded.nominal_hs, nominal_hs) END,
       last_seen_at = coalesce(excluded.last_seen_at, last_seen_at)
     RETURNING id`,
  );
  const select = `SELECT m.id, m.site_id, s.name AS site, m.host, m.port, m.make, m.model, m.firmware_name,
                         m.firmware_version, m.nominal_hs, m.first_seen_at, m.last_seen_at
                  FROM miners m JOIN sites s ON s.id = m.site_id`;
  const byHostPort = db.prepare<[string, number], MinerRow>(
    `${select} WHERE m.host = ? AND m.port = ? ORDER BY s.name`,
  );
  const byHost = db.prepare<[string], MinerRow>(`${select} WHERE m.host = ? ORDER BY s.name, m.port`);
  const dialects = db.prepare<[string], DialectRow>(
    `SELECT m.host, m.port, m.dialect, m.dialect_statics AS statics, m.make, m.model, m.firmware_name,
       m.firmware_version FROM miners m JOIN sites s ON s.id = m.site_id
     WHERE s.name = ? AND m.dialect IS NOT NULL`,
  );
  const setDialect = db.prepare<[string | null, string | null, number]>(
    'UPDATE miners SET dialect = ?, dialect_statics = ? WHERE id = ?',
  );
  const setFirmwareLimits = db.prepare<[string | null, number]>(
    'UPDATE miners SET firmware_limits = ? WHERE id = ?',
  );
  const firmwareLimits = db.prepare<[], { id: number; firmware_limits: string }>(
    'SELECT id, firmware_limits FROM miners WHERE firmware_limits IS NOT NULL',
  );
  return {
    /** The miner's id; records what a good snapshot says about it (snapshot null for a failed poll). */
    upsert(siteId: number, host: string, port: number, now: number, snapshot: Snapshot | null): number {
      return upsert.get({
        site_id: siteId,
        host,
        port,
        make: snapshot?.make ?? null,
        model: snapshot?.model ?? null,
        firmware_name: snapshot?.firmware?.name ?? null,
        firmware_version: snapshot?.firmware?.version ?? null,
        nominal_hs: snapshot?.hashrate?.nominal_hs ?? null,
        now,
        seen_at: snapshot ? now : null,
      })!.id;
    },
    /** The dialect hints collect stored for a site's miners (migration 0005). */
    dialects(site: string): DialectRow[] {
      return dialects.all(site);
    },
    setDialect(minerId: number, dialect: string | null, statics: string | null): void {
      setDialect.run(dialect, statics, minerId);
    },
    /** The firmware's own thermal limits as JSON (null: it reports none); written only on change. */
    setFirmwareLimits(minerId: number, limits: string | null): void {
      setFirmwareLimits.run(limits, minerId);
    },
    /** miner id → the JSON of its stored firmware limits, for the miners that have some. */
    firmwareLimits(): Map<number, string> {
      return new Map(firmwareLimits.all().map((row) => [row.id, row.firmware_limits]));
    },
    /** Miners matching host (and port when given), across sites. */
    find(host: string, port: number | null): MinerRow[] {
      return port === null ? byHost.all(host) : byHostPort.all(host, port);
    },
  };
}
