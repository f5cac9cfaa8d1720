// Types shared by the store modules and the migrations other engineers add.
import type BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;
export type Statement<P extends unknown[] | object = unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;

/** One schema step. `up` runs inside a transaction that also sets `user_version` to `version`. */
export interface Migration {
  version: number;
  name: string;
  up(db: Db): void;
}
