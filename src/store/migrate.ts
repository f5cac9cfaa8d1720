// Applies pending migrations, each in its own transaction that also bumps `user_version`, so a
// crash leaves the schema at a whole step. A database from a newer hashctl is refused untouched.
import { StoreVersionError } from './errors.js';
import { dbHint } from './paths.js';
import type { Db, Migration } from './types.js';

export function assertIncreasing(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new Error(
        `migration versions must be strictly increasing integers: ${migration.version} (${migration.name}) after ${previous}`,
      );
    }
    previous = migration.version;
  }
}

export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Refuses a file whose schema is newer than this hashctl knows. */
export function assertNotFromFuture(db: Db, file: string, migrations: readonly Migration[]): number {
  const current = schemaVersion(db);
  const latest = latestVersion(migrations);
  if (current > latest) {
    throw new StoreVersionError(
      `${file} was written by a newer hashctl (schema ${current}, this one knows up to ${latest}): upgrade hashctl or ${dbHint(file, 'another file', 'use another --db')}`,
      { file, schema: current, supported: latest },
    );
  }
  return current;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
}

const stepName = (migration: Migration) => `${String(migration.version).padStart(4, '0')}-${migration.name}`;

/**
 * Migrates up to `targetVersion` (default: all). `onUpgrade` hears the pending steps first when the
 * file already had a schema (a new file's creation is quick and not worth a word).
 */
export function migrate(
  db: Db,
  file: string,
  migrations: readonly Migration[],
  targetVersion = latestVersion(migrations),
  onUpgrade?: (file: string, steps: readonly string[]) => void,
): MigrationResult {
  assertIncreasing(migrations);
  const from = assertNotFromFuture(db, file, migrations);
  if (from > 0 && onUpgrade) {
    const pending = migrations.filter((m) => m.version > from && m.version <= targetVersion);
    if (pending.length > 0) onUpgrade(file, pending.map(stepName));
  }
  const applied: string[] = [];
  for (const migration of migrations) {
    if (migration.version > targetVersion) break;
    if (migration.version <= from) continue;
    // IMMEDIATE takes the write lock first; re-reading the version inside means two processes
    // opening an old file at once apply each step exactly once.
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
      applied.push(stepName(migration));
    }).immediate();
  }
  if (applied.length > 0) db.pragma('optimize');
  return { from, to: schemaVersion(db), applied };
}
