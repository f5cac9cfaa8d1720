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
const NUMERIC = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Splits at `separator` where it is not escaped by a backslash. Escapes stay in the pieces. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      current += c + (text[i + 1] as string);
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
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

/** Undoes the API ≥ 1.7 text escapes; any other backslash is data (driver strings are not escaped). */
function unescapeText(text: string): string {
  return text.replace(/\\([|,=\\])/g, '$1');
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

function parseRecord(record: string): TextRecord {
  const pieces = splitUnescaped(record, ',');
  const out: TextRecord = { name: null, continuation: [], fields: [] };
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    const eq = unescapedEquals(piece);
    if (eq !== -1) {
      out.fields.push([unescapeText(piece.slice(0, eq)), unescapeText(piece.slice(eq + 1))]);
      continue;
    }
    const last = out.fields[out.fields.length - 1];
    if (last)
      last[1] = `${String(last[1])},${unescapeText(piece)}`; // a driver string with a comma in it
    else if (i === 0 && SECTION_NAME.test(piece.trim()) && pieces.length > 1) out.name = piece.trim();
    else out.continuation.push(unescapeText(piece));
  }
  return out;
}

function toObject(fields: [string, unknown][]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  // Next `#n` suffix per duplicated name (as the JSON parser does), so a flood of one name stays linear.
  const duplicates = new Map<string, number>();
  for (const [key, value] of fields) {
    let name = key;
    if (Object.hasOwn(object, name)) {
      let n = duplicates.get(key) ?? 2;
      while (Object.hasOwn(object, `${key}#${n}`)) n++;
      duplicates.set(key, n + 1);
      name = `${key}#${n}`;
    }
    Object.defineProperty(object, name, {
      value: typeof value === 'string' ? typed(value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}

/** One command's records (no CMD= markers) → `{STATUS:[…], SECTION:[…], id:1}`. */
function buildReply(records: string[], command: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const parsed: TextRecord[] = [];
  for (const raw of records) {
    const record = parseRecord(raw);
    const previous = parsed[parsed.length - 1];
    if (record.continuation.length > 0 || (record.name === null && record.fields.length === 0)) {
      const last = previous?.fields[previous.fields.length - 1];
      if (last) {
        if (record.continuation.length > 0) last[1] = `${String(last[1])}|${record.continuation.join(',')}`;
        previous?.fields.push(...record.fields);
        continue;
      }
      if (record.fields.length === 0) continue;
    }
    parsed.push(record);
  }
  const listSection = LIST_SECTIONS[command.toLowerCase()] ?? (command.toUpperCase() || 'DATA');
  for (const record of parsed) {
    const first = record.fields[0]?.[0];
    if (record.name === null && first === 'STATUS' && body.STATUS === undefined) {
      body.STATUS = [toObject(record.fields)];
      continue;
    }
    const section = record.name ?? listSection;
    const list = (body[section] as unknown[] | undefined) ?? [];
    list.push(toObject(record.fields));
    body[section] = list;
  }
  body.id = 1;
  return body;
}

/** Parses a text-format reply (possibly a multi-command one with `CMD=` sections). */
export function parseTextReply(text: string, command: string): Record<string, unknown> {
  const records = splitUnescaped(text.replace(/\s+$/, ''), '|');
  if (records[records.length - 1] === '') records.pop();
  if (!records[0]?.startsWith('CMD=')) return buildReply(records, command);
  // Multi-command: `CMD=summary|STATUS=…|SUMMARY,…|CMD=pools|…`, keyed like the JSON layout.
  const body: Record<string, unknown> = {};
  let name = '';
  let members: string[] = [];
  const flush = (): void => {
    if (name !== '') body[name] = [buildReply(members, name)];
  };
  for (const record of records) {
    if (record.startsWith('CMD=')) {
      flush();
      name = unescapeText(record.slice(4));
      members = [];
    } else {
      members.push(record);
    }
  }
  flush();
  body.id = 1;
  return body;
}
