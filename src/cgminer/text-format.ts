// The plain-text reply format (CGMINER-API.md §3.2): `STATUS=S,When=…,Code=11,Msg=Summary,…|SUMMARY,
// Elapsed=12,…|`. Records split at `|`, fields at `,`, name and value at the first `=`; `\` escapes
// `| , = \` in user strings. Turned into the JSON shape a JSON reply would have, so that nothing
// above the decoder needs to know which format a firmware used. Pure.

/** Upper-case section of the records of a list command that carry no section-name token. */
const LIST_SECTIONS: Record<string, string> = {
  pools: 'POOLS',
  devs: 'DEVS',
  edevs: 'DEVS',
  stats: 'STATS',
  estats: 'STATS',
  litestats: 'STATS',
  dbgstats: 'DBGSTATS',
  devdetails: 'DEVDETAILS',
  notify: 'NOTIFY',
  usbstats: 'USBSTATS',
  asc: 'ASC',
  pga: 'PGA',
  check: 'CHECK',
};

const SECTION_NAME = /^[A-Z][A-Z0-9_ ]*$/;
/** Later values of repeated field names kept per reply, as in the JSON parser (MAX_KEPT_DUPLICATES). */
const MAX_KEPT_DUPLICATES = 10_000;

/** Fields created between two checkTime calls (as CHECK_EVERY in the JSON parser). */
const CHECK_EVERY = 4096;

/** What a parse noticed (repairs, duplicates kept so far) and its time check. */
interface TextParse {
  repairs: Set<string>;
  keptDuplicates: number;
  /** Units of work done (fields, pieces, escapes), for the time check. */
  fields: number;
  /** Fields and records read so far: the values the reply will decode to, about. */
  values: number;
  checkTime?: (values: number) => void;
}

/**
 * One unit of work: every CHECK_EVERY of them the deadline is checked. Counted wherever a hostile
 * reply can repeat the work millions of times (pieces of a record, escapes in a value), not only per
 * field built: a record of two million fields took seconds to split before its first field was.
 */
function tick(parse: TextParse): void {
  if (++parse.fields % CHECK_EVERY === 0) parse.checkTime?.(parse.values);
}
const NUMERIC = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Splits at `separator` where it is not escaped by a backslash. Escapes stay in the pieces. */
function splitUnescaped(text: string, separator: string, parse: TextParse): string[] {
  const parts: string[] = [];
  const separatorCode = separator.charCodeAt(0);
  let start = 0;
  // Slices, not a string grown one character at a time: replies can be megabytes of separators.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c)
      i++; // a backslash escapes the next character
    else if (c === separatorCode) {
      parts.push(text.slice(start, i));
      start = i + 1;
      tick(parse);
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Index of the first unescaped `=`, or -1. */
function unescapedEquals(field: string): number {
  for (let i = 0; i < field.length; i++) {
    if (field[i] === '\\') i++;
    else if (field[i] === '=') return i;
  }
  return -1;
}

/** `| , = \`: what a backslash escapes in the text format. */
const ESCAPED = new Set([0x7c, 0x2c, 0x3d, 0x5c]);

/** Undoes the API ≥ 1.7 text escapes; any other backslash is data (driver strings are not escaped). */
function unescapeText(text: string, parse: TextParse): string {
  if (!text.includes('\\')) return text;
  // By hand rather than one regex replace: megabytes of escapes are millions of appends, and the
  // deadline must be able to stop them.
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x5c || !ESCAPED.has(text.charCodeAt(i + 1))) continue;
    out += text.slice(start, i);
    start = i + 1;
    i++; // the escaped character is kept as it is
    tick(parse);
  }
  return out + text.slice(start);
}

function typed(value: string): unknown {
  if (NUMERIC.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

interface TextRecord {
  name: string | null;
  /** Text before the first `name=value` field that is not a section name: the tail of a driver
   * string from the previous record that contained a `|` (Avalon `Msg=…help|voltage|…`). */
  continuation: string[];
  fields: [string, unknown][];
}

function parseRecord(record: string, parse: TextParse): TextRecord {
  const pieces = splitUnescaped(record, ',', parse);
  const out: TextRecord = { name: null, continuation: [], fields: [] };
  // Pieces without `=` after a field are the rest of its value (a driver string with a comma in it);
  // gathered and joined once, so that a megabyte of commas is not a megabyte of string copies.
  let rest: string[] = [];
  const joinRest = (): void => {
    const last = out.fields[out.fields.length - 1];
    if (last && rest.length > 0) last[1] = `${String(last[1])},${rest.join(',')}`;
    rest = [];
  };
  for (let i = 0; i < pieces.length; i++) {
    tick(parse);
    const piece = pieces[i] as string;
    const eq = unescapedEquals(piece);
    if (eq !== -1) {
      joinRest();
      parse.values++;
      // A record's first name starts after the blanks that followed the `|` (`…|\nPOOL=0,…`):
      // a line break is no part of a field name.
      const name = i === 0 ? piece.slice(0, eq).trimStart() : piece.slice(0, eq);
      out.fields.push([unescapeText(name, parse), unescapeText(piece.slice(eq + 1), parse)]);
      continue;
    }
    if (out.fields.length > 0) rest.push(unescapeText(piece, parse));
    else if (i === 0 && SECTION_NAME.test(piece.trim()) && pieces.length > 1) out.name = piece.trim();
    else out.continuation.push(unescapeText(piece, parse));
  }
  joinRest();
  return out;
}

function toObject(fields: [string, unknown][], parse: TextParse): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  // Next `#n` suffix per duplicated name (as the JSON parser does), so a flood of one name stays linear.
  let duplicates: Map<string, number> | null = null;
  for (const [key, value] of fields) {
    tick(parse);
    let name = key;
    if (Object.hasOwn(object, name)) {
      parse.repairs.add('duplicate keys');
      if (parse.keptDuplicates >= MAX_KEPT_DUPLICATES) {
        parse.repairs.add('duplicate keys dropped');
        continue;
      }
      parse.keptDuplicates++;
      duplicates ??= new Map();
      let n = duplicates.get(key) ?? 2;
      while (Object.hasOwn(object, `${key}#${n}`)) n++;
      duplicates.set(key, n + 1);
      name = `${key}#${n}`;
    }
    const data = typeof value === 'string' ? typed(value) : value;
    // defineProperty so that a field named `__proto__` is data, not a prototype change.
    if (name === '__proto__') {
      Object.defineProperty(object, name, {
        value: data,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      object[name] = data;
    }
  }
  return object;
}

/** One command's records (no CMD= markers) → `{STATUS:[…], SECTION:[…], id:1}`. */
function buildReply(records: string[], command: string, parse: TextParse): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const parsed: TextRecord[] = [];
  // Records that continue the last field of the previous record, joined once (see parseRecord).
  let tail: string[] = [];
  const joinTail = (): void => {
    const previous = parsed[parsed.length - 1];
    const last = previous?.fields[previous.fields.length - 1];
    if (last && tail.length > 0) last[1] = `${String(last[1])}|${tail.join('|')}`;
    tail = [];
  };
  for (const raw of records) {
    tick(parse);
    const previous = parsed[parsed.length - 1];
    const hasLastField = previous !== undefined && previous.fields.length > 0;
    // No `=` and no `,`: no field and no section name, only more of the previous value (or nothing).
    if (hasLastField && !raw.includes('=') && !raw.includes(',')) {
      tail.push(unescapeText(raw, parse));
      continue;
    }
    const record = parseRecord(raw, parse);
    if (record.continuation.length > 0 || (record.name === null && record.fields.length === 0)) {
      if (hasLastField) {
        if (record.continuation.length > 0) tail.push(record.continuation.join(','));
        joinTail();
        for (const field of record.fields) previous.fields.push(field);
        continue;
      }
      if (record.fields.length === 0) continue;
    }
    joinTail();
    parse.values++;
    parsed.push(record);
  }
  joinTail();
  const lower = command.toLowerCase();
  // Own keys only: a command named `constructor` must not find Object's.
  const listSection = Object.hasOwn(LIST_SECTIONS, lower)
    ? (LIST_SECTIONS[lower] as string)
    : command.toUpperCase() || 'DATA';
  for (const record of parsed) {
    const first = record.fields[0]?.[0];
    if (record.name === null && first === 'STATUS' && body.STATUS === undefined) {
      body.STATUS = [toObject(record.fields, parse)];
      continue;
    }
    const section = record.name ?? listSection;
    const list = (body[section] as unknown[] | undefined) ?? [];
    list.push(toObject(record.fields, parse));
    body[section] = list;
  }
  body.id = 1;
  return body;
}

/**
 * Parses a text-format reply (possibly a multi-command one with `CMD=` sections). Repairs it made
 * (duplicate field names) are added to `repairs`; `checkTime` may throw to stop a long parse.
 */
export function parseTextReply(
  text: string,
  command: string,
  repairs: string[] = [],
  checkTime?: (values: number) => void,
): Record<string, unknown> {
  const parse: TextParse = { repairs: new Set(), keptDuplicates: 0, fields: 0, values: 0, checkTime };
  const body = parseRecords(text, command, parse);
  repairs.push(...parse.repairs);
  return body;
}

function parseRecords(text: string, command: string, parse: TextParse): Record<string, unknown> {
  // trimEnd, not `/\s+$/`: that regex is quadratic in a run of blanks that does not end the text.
  const records = splitUnescaped(text.trimEnd(), '|', parse);
  if (records[records.length - 1] === '') records.pop();
  if (!records[0]?.startsWith('CMD=')) return buildReply(records, command, parse);
  // Multi-command: `CMD=summary|STATUS=…|SUMMARY,…|CMD=pools|…`, keyed like the JSON layout.
  const body: Record<string, unknown> = {};
  let name = '';
  let members: string[] = [];
  const flush = (): void => {
    // defineProperty: a member named `__proto__` (CMD=__proto__) is data, not a prototype change.
    if (name !== '')
      Object.defineProperty(body, name, {
        value: [buildReply(members, name, parse)],
        enumerable: true,
        writable: true,
        configurable: true,
      });
  };
  for (const record of records) {
    tick(parse);
    // `…|\nCMD=pools|`: the blanks after a `|` neither hide a section nor enter its name.
    const marker = record.trimStart();
    if (marker.startsWith('CMD=')) {
      flush();
      name = unescapeText(marker.slice(4), parse).trim();
      members = [];
    } else {
      members.push(record);
    }
  }
  flush();
  body.id = 1;
  return body;
}
