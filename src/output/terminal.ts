// Text from miners (models, pool URLs, STATUS messages, raw replies) and from peers (TLS and HTTP
// errors) reaches people's terminals. A hostile firmware must not be able to clear the screen, set
// the window title, move the cursor, hide text or fake a second line: control characters and escape
// sequences are shown as visible escapes instead. The only sequences kept are the colours hashctl
// paints itself (chalk at level 1: bold, dim, red, green, yellow, cyan and their resets), so a
// painted cell stays painted. JSON output (jsonText) escapes the same characters as `\uHHHH`:
// JSON.stringify escapes only C0, and a document on a terminal is read there too.

// C0 except tab and newline, DEL, C1, the Unicode bidirectional overrides, isolates and marks
// (which can make text display in another order than it is stored), the invisible ones (zero-width
// space and joiners, word joiner, BOM, interlinear annotation) and the line/paragraph separators.
const UNSAFE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/;
const PAINT = /\u001b\[(?:0|1|2|22|31|32|33|36|39)?m/y;

/**
 * A cheap first look (every text field of every reply passes here): false when no character can be
 * unsafe. A loop over char codes is several times faster than the regular expression on short text.
 */
function mayBeUnsafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (
      code < 0x20
        ? code !== 0x09 && code !== 0x0a
        : code >= 0x7f && (code <= 0x9f || code === 0x061c || code >= 0x200b)
    )
      return true;
  }
  return false;
}

function visible(code: number): string {
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every unsafe character shown as `\xHH` / `\uHHHH`. hashctl's own colours are kept
 * unless `strict`: text that is never painted by hashctl (a miner's or a peer's words, an error
 * message) is strict, so a firmware cannot recolour or reset a table either.
 */
export function terminalSafe(text: string, strict = false): string {
  if (!mayBeUnsafe(text)) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      // A surrogate pair is one character (an emoji); half of one is no text at all, and UTF-8
      // (a terminal, SQLite, a file) cannot carry it: shown as its code, like a control character.
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else {
        out += text.slice(from, i) + visible(code);
        from = i + 1;
      }
      continue;
    }
    if (!UNSAFE.test(text[i] as string)) continue;
    if (code === 0x1b && !strict) {
      PAINT.lastIndex = i;
      const paint = PAINT.exec(text);
      if (paint) {
        i += paint[0].length - 1;
        continue;
      }
    }
    out += text.slice(from, i) + visible(code);
    from = i + 1;
  }
  return out + text.slice(from);
}

/** One line of strictly terminal-safe text (a message, not a painted cell): line breaks become a space. */
export function oneLine(text: string): string {
  return terminalSafe(
    text
      // Each run of blanks holding a line break becomes one space. Not /\s*[\r\n]+\s*/g: that
      // retries from every blank of a long run with no line break, quadratic in the run.
      .replace(/\s+/g, (run) => (/[\r\n]/.test(run) ? ' ' : run))
      .replace(/\t/g, ' ')
      .trim(),
    true,
  );
}

/** Strict, and tabs, line breaks and line separators shown too: for quoting text the user gave. */
export function quoted(text: string): string {
  return terminalSafe(text, true).replace(/[\t\n\u2028\u2029]/g, (char) => visible(char.charCodeAt(0)));
}

// What JSON.stringify leaves raw but a terminal must not see: the UNSAFE set above C0 (JSON
// escapes C0 itself).
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/**
 * `JSON.stringify(value, null, indent)` with every terminal-unsafe character inside its strings
 * written as a `\uHHHH` escape: the same data for any JSON reader, inert on a terminal.
 */
export function jsonText(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return text === undefined
    ? text
    : text.replace(JSON_UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const JSON_PIECE = 1 << 16;

/**
 * `jsonText(value, indent)` with `margin` after every line break (between `frame.before` and
 * `frame.after`, written as they are), handed to `write` in pieces of about 64 K characters
 * instead of as one string. Its length grows with the depth of every value
 * (the indentation), so a reply within `--max-bytes` can print to more than V8's longest string:
 * 3 MB of `1,` nested 190 lists deep is 600 MB of indented JSON, and `probe --json` died of
 * "Invalid string length", printing nothing. Same bytes as jsonText: arrays and plain objects are
 * walked here, anything else (a Date, a boxed value) is written by JSON.stringify.
 */
export function writeJsonPieces(
  write: (piece: string) => void,
  value: unknown,
  indent: number,
  margin = '',
  frame: { before?: string; after?: string } = {},
): void {
  const gap = ' '.repeat(indent);
  // The framing around the value goes out with its first and last piece: a value of one piece is
  // one write, as before.
  let buffer = frame.before ?? '';
  const put = (text: string): void => {
    buffer += text;
    if (buffer.length >= JSON_PIECE) {
      write(buffer.replace(JSON_UNSAFE, unsafeEscape));
      buffer = '';
    }
  };
  // JSON.stringify's view of a member: after toJSON, undefined for what it leaves out.
  const resolved = (holder: unknown, key: string): unknown => {
    const item = (holder as Record<string, unknown>)[key];
    const toJSON = item !== null && typeof item === 'object' ? (item as { toJSON?: unknown }).toJSON : null;
    return typeof toJSON === 'function' ? (toJSON as (key: string) => unknown).call(item, key) : item;
  };
  const walk = (item: unknown, lead: string): boolean => {
    if (Array.isArray(item)) {
      if (item.length === 0) {
        put('[]');
        return true;
      }
      const inner = lead + gap;
      for (let i = 0; i < item.length; i++) {
        put(i === 0 ? `[\n${inner}` : `,\n${inner}`);
        if (!walk(resolved(item, String(i)), inner)) put('null');
      }
      put(`\n${lead}]`);
      return true;
    }
    const proto = item !== null && typeof item === 'object' ? Object.getPrototypeOf(item) : undefined;
    if (proto === Object.prototype || proto === null) {
      const inner = lead + gap;
      let members = 0;
      for (const key of Object.keys(item as object)) {
        const member = resolved(item, key);
        if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
        put(`${members++ === 0 ? '{\n' : ',\n'}${inner}${JSON.stringify(key)}: `);
        walk(member, inner);
      }
      put(members === 0 ? '{}' : `\n${lead}}`);
      return true;
    }
    const text = JSON.stringify(item, null, indent) as string | undefined;
    if (text === undefined) return false;
    put(text.includes('\n') ? text.replace(/\n/g, `\n${lead}`) : text);
    return true;
  };
  // As JSON.stringify does, the value itself goes through toJSON with the key ''.
  walk(resolved({ '': value }, ''), margin);
  buffer += frame.after ?? '';
  if (buffer !== '') write(buffer.replace(JSON_UNSAFE, unsafeEscape));
}

function unsafeEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
