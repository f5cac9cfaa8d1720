// sites: one row per farm site; collect writes into the site named by --site ("default" otherwise).
import { terminalSafe } from '../output/terminal.js';
import type { Db } from './types.js';

export const DEFAULT_SITE = 'default';

/** Longest site id: one a person types, printed in every table. */
export const MAX_SITE_CHARS = 200;

/**
 * Why `site` (NFC-normalized by the caller) cannot name a site, or null. A site id is printed in
 * tables, notes and exports, and stored for good: no control or invisible characters in it (they
 * would be shown escaped everywhere, or not at all in a file). Shared by --site and the config's
 * "site", so both refuse the same names.
 */
export function siteNameProblem(site: string): string | null {
  if (site.trim() === '') return 'empty';
  if (site.length > MAX_SITE_CHARS) return `longer than ${MAX_SITE_CHARS} characters`;
  if (terminalSafe(site, true) !== site || /[\t\n]/.test(site))
    return 'control and invisible characters cannot name a site';
  return null;
}

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
