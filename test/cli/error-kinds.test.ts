// The error kinds are a stable contract (hashctl.md §3): the README lists them for users, and
// src/errors.ts for the code. A kind added or renamed in one place and not the other is drift that
// a user's `jq 'select(.error.kind == …)'` finds the hard way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_ERROR_KINDS, MINER_ERROR_KINDS } from '../../src/errors.js';

function readmeKinds(): { miner: string[]; local: string[] } {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const start = readme.indexOf('**Error kinds**');
  const end = readme.indexOf('**Exit codes**', start);
  expect(start).toBeGreaterThan(-1);
  const paragraph = readme.slice(start, end).split('Some commands add their own')[0] as string;
  const [miner = '', local = ''] = paragraph.split('Local failures:');
  // The backquoted words, but for `api`'s fields and the commands named in the explanations.
  const other = new Set(['code', 'msg', 'probe', 'audit']);
  const words = (text: string) =>
    [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string).filter((w) => !other.has(w));
  return { miner: words(miner), local: words(local) };
}

describe('error kinds', () => {
  it('the README lists the miner kinds of src/errors.ts, and no other', () => {
    expect(readmeKinds().miner.sort()).toEqual([...MINER_ERROR_KINDS].sort());
  });

  it('the README lists the local kinds of src/errors.ts, interrupted included', () => {
    expect(readmeKinds().local.sort()).toEqual([...LOCAL_ERROR_KINDS].sort());
  });
});
