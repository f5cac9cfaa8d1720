// A -journal left beside the database by a program that stopped in the middle of a write (sqlite3
// or a backup tool on a file switched to rollback-journal mode): readers roll it back as a writer
// would, and keep the data from before it, rather than failing with the wrong reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { loadSqlite } from '../../src/store/native.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-journal-'));
});
afterEach(() => cleanup());

/** farm.db with one site, and beside it the -journal of an unfinished write that added 300 more. */
function crashedMidWrite(): string {
  const source = path.join(dir, 'source.db');
  const store = openStore(source);
  store.db.exec("INSERT INTO sites (name, created_at) VALUES ('north', 0)");
  store.close();
  const Database = loadSqlite();
  const raw = new Database(source);
  raw.pragma('journal_mode = DELETE');
  raw.pragma('cache_size = 1'); // the changed pages go to the file before the commit
  raw.exec('BEGIN IMMEDIATE');
  const insert = raw.prepare('INSERT INTO sites (name, created_at) VALUES (?, 0)');
  for (let i = 0; i < 300; i++) insert.run(`unfinished-${i}-${'x'.repeat(500)}`);
  // What the disk holds when the writer dies here.
  const file = path.join(dir, 'farm.db');
  fs.copyFileSync(source, file);
  fs.copyFileSync(`${source}-journal`, `${file}-journal`);
  raw.exec('ROLLBACK');
  raw.close();
  return file;
}

describe('a hot -journal beside the database', () => {
  it('is rolled back by a reader, which then reads the data from before the unfinished write', () => {
    const file = crashedMidWrite();
    const store = openStore(file, { readonly: true });
    try {
      expect(store.db.prepare('SELECT name FROM sites').pluck().all()).toEqual(['north']);
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      store.close();
    }
    expect(fs.existsSync(`${file}-journal`)).toBe(false);
  });
});
