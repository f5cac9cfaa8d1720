// store_meta: small named values the store keeps about itself (maintenance bookkeeping).
import type { Db } from './types.js';

export function metaStatements(db: Db) {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM store_meta WHERE key = ?');
  const set = db.prepare<[string, string]>(
    'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    get(key: string): string | null {
      return get.get(key)?.value ?? null;
    },
    getNumber(key: string): number | null {
      const value = get.get(key)?.value;
      return value === undefined || !Number.isFinite(Number(value)) ? null : Number(value);
    },
    set(key: string, value: string | number): void {
      set.run(key, String(value));
    },
  };
}
