// miners.dialect: what collect learned about talking to a miner (its dialect family, and whether it
// refuses `a+b` joins), so the next cron run asks exactly what that firmware needs, in as few
// requests as it allows, instead of first contact's wide probe. NULL: not known yet, or the
// firmware changed and the next poll starts over. miners.dialect_statics: the replies that do not
// change while a miner runs (Whatsminer `get_version`), as JSON {at, booted_at, replies}, reused for
// an hour unless the miner rebooted. Written by collect; any reader may ignore both.
import type { Db } from '../types.js';

export const version = 5;
export const name = 'miner-dialect';

export function up(db: Db): void {
  db.exec('ALTER TABLE miners ADD COLUMN dialect TEXT; ALTER TABLE miners ADD COLUMN dialect_statics TEXT;');
}
