// sites: one row per farm site; collect writes into the site named by --site ("default" otherwise).
import type { Db } from './types.js';

export const DEFAULT_SITE = 'default';

export interface SiteRow {
  id: number;
  name: string;
}

export function siteStatements(db: Db) {
  const ensure = db.prepare<{ name: string; now: number }, { id: number }>(
    `INSERT INTO sites (name, created_at) VALUES (@name, @now)
     ON CONFLICT (name) DO UPDATE SET name = excluded.name
     RETURNING id`,
  );
  const byName = db.prepare<[string], SiteRow>('SELECT id, name FROM sites WHERE name = ?');
  const all = db.prepare<[], SiteRow>('SELECT id, name FROM sites ORDER BY name');
  // One spelling per name: "café" typed as é or as e + ◌́ (NFC or NFD) is one site, not two that
  // look the same and count one miner twice.
  return {
    /** The site's id, creating the row the first time (write transaction). */
    ensure(name: string, now: number): number {
      return ensure.get({ name: name.normalize('NFC'), now })!.id;
    },
    find(name: string): SiteRow | null {
      return byName.get(name.normalize('NFC')) ?? null;
    },
    list(): SiteRow[] {
      return all.all();
    },
  };
}
