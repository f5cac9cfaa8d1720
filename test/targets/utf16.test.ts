// A target list saved by Windows PowerShell (`>` and Out-File write UTF-16LE with a BOM) was decoded
// as UTF-8 and refused as "invalid target '��1\x002\x00…'". Its BOM says what it is: read as such,
// from a file and from standard input, as a UTF-8 file with or without its BOM is.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTargetSpecs } from '../../src/targets/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const LIST = '# rack 7\r\n10.0.0.1\r\n10.0.0.2:4029\r\n10.0.1.0/30\r\n';
const EXPECTED = ['10.0.0.1:4028', '10.0.0.2:4029', '10.0.1.1:4028', '10.0.1.2:4028'];

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i + 1 < le.length; i += 2) {
    be[i] = le[i + 1] as number;
    be[i + 1] = le[i] as number;
  }
  return be;
}

const encodings: [string, Buffer][] = [
  [
    'UTF-16LE with its BOM (PowerShell)',
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(LIST, 'utf16le')]),
  ],
  ['UTF-16BE with its BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(LIST)])],
  ['UTF-8 with its BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(LIST)])],
  ['UTF-8', Buffer.from(LIST)],
];

describe('target lists by their byte-order mark', () => {
  for (const [name, bytes] of encodings) {
    it(`reads ${name} from a file`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-targets-'));
      dirs.push(dir);
      const file = path.join(dir, 'farm.txt');
      fs.writeFileSync(file, bytes);
      const set = await parseTargetSpecs([`@${file}`], { defaultPort: 4028 });
      expect([...set].map((t) => t.key)).toEqual(EXPECTED);
    });

    it(`reads ${name} from standard input, in small chunks`, async () => {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += 5) chunks.push(bytes.subarray(i, i + 5));
      const set = await parseTargetSpecs(['-'], { defaultPort: 4028, stdin: Readable.from(chunks) });
      expect([...set].map((t) => t.key)).toEqual(EXPECTED);
    });
  }
});
