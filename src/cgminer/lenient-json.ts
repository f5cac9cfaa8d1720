// A JSON parser that tolerates what miners really send (CGMINER-API.md §12) and names every repair it
// made. Hand-written rather than regex pre-passes so that a repair never touches the inside of a string
// (a pool URL may well contain `}{` or `,]`), and because JSON.parse silently drops duplicate keys.
//
// Duplicate keys (Hammer D10 `"temp1":21,"temp1":42,…`) are KEPT: the first value stays under `key`,
// later ones go to `key#2`, `key#3`, … so a reader indexing `temp1` still gets a number, and nothing
// the miner said is lost.

/**
 * The start of a miner's word quoted in a message, and its length when cut: an error is one line,
 * and a hostile key, STATUS or section name of 300 KB made every output of probe 300 KB wide.
 */
export function excerpt(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** Thrown for input that no repair here can make sense of. */
export class LenientSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
    /** Nesting past MAX_DEPTH: no repair can help, and recursive repairers would overflow the stack. */
    readonly tooDeep = false,
  ) {
    super(`${message} at offset ${position}`);
    this.name = 'LenientSyntaxError';
  }
}

/** Input ended in the middle of a token: the caller cuts back to the last complete member. */
class EndOfInput extends Error {}

export const REPAIR = {
  leadingComma: 'leading comma',
  gluedObjects: 'glued objects',
  missingComma: 'missing comma',
  trailingComma: 'trailing comma',
  strayComma: 'stray comma',
  nan: 'nan value',
  badEscape: 'bad escape',
  controlChars: 'control characters',
  trailingData: 'trailing data',
  truncated: 'truncated',
  listAsObject: 'list brackets around object',
  duplicateKeys: 'duplicate keys',
  duplicatesDropped: 'duplicate keys dropped',
  missingValue: 'missing value',
  /** `"a":+5`: printf's `%+d`, which some firmwares use for offsets and deltas. */
  plusSign: 'plus sign',
} as const;

export interface LenientResult {
  value: unknown;
  repairs: string[];
  /** The input ended before the top-level value was closed. */
  truncated: boolean;
  /** Values in `value` (members and elements, the top-level one included): what it weighs (./budget.ts). */
  values: number;
}

/**
 * Real replies nest 6 deep (S21+ new_api stats), 8 in a join. Deeper nesting is hostile, and it
 * multiplies what a reply prints: every value of --json is indented by its depth (261,000 values
 * 190 lists deep, 520 KB, printed 102 MB).
 */
const MAX_DEPTH = 64;
/**
 * Later values of repeated keys kept per reply (Hammer D10 repeats a handful). Past this they are
 * dropped and said so: each kept one is a new property name, and a flood of one key would otherwise
 * cost seconds (V8 adds properties to a huge object slowly).
 */
export const MAX_KEPT_DUPLICATES = 10_000;
const NON_FINITE_WORD = /^-?(?:nan|inf|infinity)$/i;
const WORD = /[A-Za-z_-][A-Za-z0-9_()-]*/y;

/** Parses `text` as leniently as the catalogue requires. Throws LenientSyntaxError, or what `checkTime` throws. */
export function parseLenient(text: string, options: ParseBudget = {}): LenientResult {
  options.checkTime?.(0);
  return parseStrict(text) ?? new Parser(text, options.checkTime).parseDocument();
}

/**
 * The hand-written parser alone, without the JSON.parse fast path: the reference the fast path must
 * equal (the same value and the same repairs; the order of the repairs may differ).
 */
export function parseLenientByHand(text: string, options: ParseBudget = {}): LenientResult {
  return new Parser(text, options.checkTime).parseDocument();
}

// The fast path. Most replies are plain JSON, and V8's JSON.parse reads them several times faster
// than the parser below, with no Error built on the way; it is used only where its result is exactly
// the lenient one: an object that JSON.parse accepts, within MAX_DEPTH, no key repeated within one
// object (JSON.parse keeps only the last), and `"nan"`-like strings still turned into null. Only
// for replies of real size: JSON.parse cannot be stopped by the decoding deadline, so anything larger
// goes through the parser that checks it.

/** Real replies stay under 50 KB (CGMINER-API.md §12 #23); JSON.parse takes well under 1 ms there. */
const STRICT_MAX_CHARS = 64 * 1024;

interface Tally {
  /** Object members seen (keys kept by JSON.parse). */
  members: number;
  /** Array elements seen. */
  elements: number;
  /** ':' characters inside keys and string values. */
  colons: number;
  nan: boolean;
  /** Look for '},{' in keys and strings: the text was commaed blindly, maybe inside a string. */
  braceGuard: boolean;
  /** A key or string holds '},{'. */
  commaBraces: boolean;
}

function colonsIn(text: string): number {
  let count = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) count++;
  return count;
}

/** A string value the lenient parser turns into null (`"nan"`, `"-inf"`, …). */
function isNonFinite(text: string): boolean {
  return text.length >= 3 && text.length <= 9 && NON_FINITE_WORD.test(text);
}

/** Counts members and colons, nulls non-finite strings in place; false past MAX_DEPTH. */
function tally(container: Record<string, unknown> | unknown[], depth: number, into: Tally): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(container)) {
    into.elements += container.length;
    for (let i = 0; i < container.length; i++) {
      const value = container[i];
      if (typeof value === 'string') {
        into.colons += colonsIn(value);
        if (into.braceGuard && value.includes('},{')) into.commaBraces = true;
        if (isNonFinite(value)) {
          container[i] = null;
          into.nan = true;
        }
      } else if (
        value !== null &&
        typeof value === 'object' &&
        !tally(value as Record<string, unknown>, depth + 1, into)
      ) {
        return false;
      }
    }
    return true;
  }
  // for…in, not Object.keys: replies repeat a few object shapes, whose key lists V8 caches per
  // shape, so this walk allocates nothing for them. An inherited enumerable key (a polluted
  // Object.prototype) would only make the count differ and send the reply to the lenient parser.
  for (const key in container) {
    into.members++;
    into.colons += colonsIn(key);
    const value = container[key];
    if (into.braceGuard && (key.includes('},{') || (typeof value === 'string' && value.includes('},{'))))
      into.commaBraces = true;
    if (typeof value === 'string') {
      into.colons += colonsIn(value);
      if (isNonFinite(value)) {
        container[key] = null;
        into.nan = true;
      }
    } else if (
      value !== null &&
      typeof value === 'object' &&
      !tally(value as Record<string, unknown>, depth + 1, into)
    ) {
      return false;
    }
  }
  return true;
}

/**
 * The lenient result by JSON.parse, or null when only the lenient parser can tell. Every `:` outside
 * strings separates a key from its value, so the colons of the text, less those inside keys and
 * strings, count the members the text wrote; fewer members in the parsed value means a key was
 * repeated. A `\u` escape could make a colon appear only after parsing, so such text is left to
 * the lenient parser.
 */
function parseStrict(text: string): LenientResult | null {
  if (text.length > STRICT_MAX_CHARS || text.charCodeAt(0) !== 0x7b || text.includes('\\u')) return null;
  // bmminer's glued `}{` stats (a third of an S9-era farm) are commaed before parsing: a `}{`
  // outside strings is never valid JSON, so parsing the text as it is would only fail halfway and
  // build a SyntaxError. First by replaceAll, which is native; that is the exact repair unless a
  // key or string held `}{` too, which the walk of the result then finds as `},{` (or the text
  // has glue with whitespace between): then by the scan that skips strings.
  if (text.includes('}{')) {
    const quick = strictResult(text.replaceAll('}{', '},{'), text, true, true);
    if (quick !== RETRY) return quick;
    const exact = commaGluedObjects(text);
    const result = strictResult(exact ?? text, text, exact !== null, false);
    return result === RETRY ? null : result;
  }
  const plain = strictResult(text, text, false, false);
  if (plain !== RETRY) return plain;
  // Glued with whitespace between (`} {`): found only after JSON.parse refused the text.
  const commaed = commaGluedObjects(text);
  if (commaed === null) return null;
  const result = strictResult(commaed, text, true, false);
  return result === RETRY ? null : result;
}

/** JSON.parse refused the text, or (braceGuard) a blind commaing may have changed a string. */
const RETRY = Symbol('retry');

/**
 * `json` (the reply, or the reply with its glued objects commaed) by JSON.parse, as the lenient
 * parser would read `text`; null when only the lenient parser can tell (a repeated key, too deep).
 */
function strictResult(
  json: string,
  text: string,
  glued: boolean,
  braceGuard: boolean,
): LenientResult | null | typeof RETRY {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return RETRY;
  }
  const seen: Tally = { members: 0, elements: 0, colons: 0, nan: false, braceGuard, commaBraces: false };
  if (!tally(value as Record<string, unknown>, 1, seen)) return null;
  if (seen.commaBraces) return RETRY;
  if (colonsIn(text) !== seen.members + seen.colons) return null;
  const repairs: string[] = [];
  if (glued) repairs.push(REPAIR.gluedObjects);
  if (seen.nan) repairs.push(REPAIR.nan);
  return { value, repairs, truncated: false, values: 1 + seen.members + seen.elements };
}

/**
 * `text` with a comma between every `}` and `{` that meet outside strings (JSON whitespace between
 * them kept), or null when there is none. A comma there is valid JSON only between two elements of
 * a list, exactly where the lenient parser reads glued objects as two elements; anywhere else
 * JSON.parse refuses the result and the lenient parser decides.
 */
export function commaGluedObjects(text: string): string | null {
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7d) {
      let j = i + 1;
      let n = text.charCodeAt(j);
      while (n === 0x20 || n === 0x0a || n === 0x0d || n === 0x09) n = text.charCodeAt(++j);
      if (n === 0x7b) {
        out += `${text.slice(copied, i + 1)},`;
        copied = i + 1;
      }
    }
  }
  return copied === 0 ? null : out + text.slice(copied);
}

export interface ParseBudget {
  /**
   * Called every CHECK_EVERY values with the values built so far; throws (the caller's own error)
   * to stop a parse that runs past its deadline, or past the values a reply may hold. Building
   * millions of keys costs V8 seconds, even when every step is linear.
   */
  checkTime?: (values: number) => void;
}

/** Values created between two checkTime calls: rare enough to cost nothing, often enough to stop in time. */
export const CHECK_EVERY = 4096;

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly repairs = new Set<string>();
  private truncated = false;
  private keptDuplicates = 0;
  private readonly duplicateSuffixes = new WeakMap<object, Map<string, number>>();

  private values = 0;

  constructor(
    private readonly text: string,
    private readonly checkTime?: (values: number) => void,
  ) {}

  private counted(): void {
    if (++this.values % CHECK_EVERY === 0) this.checkTime?.(this.values);
  }

  parseDocument(): LenientResult {
    this.skipWhitespace();
    let value: unknown;
    if (this.peek() === ',') {
      // `,"id":1}`: the head of the reply went missing; read the rest as an object.
      this.repairs.add(REPAIR.leadingComma);
      this.pos++;
      value = this.parseObjectBody();
    } else {
      try {
        value = this.parseValue();
      } catch (error) {
        if (error instanceof EndOfInput)
          throw new LenientSyntaxError('reply ended before any value', this.pos);
        throw error;
      }
    }
    this.skipWhitespace();
    if (this.pos < this.text.length) this.repairs.add(REPAIR.trailingData);
    if (this.truncated) this.repairs.add(REPAIR.truncated);
    return { value, repairs: [...this.repairs], truncated: this.truncated, values: this.values + 1 };
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private skipWhitespace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      // JSON whitespace plus the other ASCII controls some firmwares leave between values.
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xfeff) this.pos++;
      else break;
    }
  }

  private fail(message: string): never {
    throw new LenientSyntaxError(message, this.pos);
  }

  private parseValue(): unknown {
    this.skipWhitespace();
    const c = this.peek();
    if (c === undefined) throw new EndOfInput();
    if (c === '{') {
      this.pos++;
      return this.parseObjectBody();
    }
    if (c === '[') {
      this.pos++;
      return this.parseArrayBody();
    }
    if (c === '"') return this.parseStringValue();
    if (c === '-' || c === '.' || (c >= '0' && c <= '9')) {
      if (c === '-' && /[a-zA-Z]/.test(this.text[this.pos + 1] ?? '')) return this.parseWord();
      return this.parseNumber();
    }
    if (/[A-Za-z_]/.test(c)) return this.parseWord();
    if (c === '+') return this.parsePlusSigned();
    return this.fail(`unexpected '${c}'`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new LenientSyntaxError('nesting too deep', this.pos, true);
  }

  /**
   * Parses members after an already-consumed `{` (or a leading comma standing in for it). With
   * `initialKey`, this is a list that turned out to hold members (`["110":"…"]`): `]` closes it.
   */
  private parseObjectBody(initialKey?: string): Record<string, unknown> {
    const closer = initialKey === undefined ? '}' : ']';
    this.enter();
    const object: Record<string, unknown> = {};
    let pendingKey = initialKey;
    let expectMember = true; // false right after a member: a `,` or `}` is due
    for (;;) {
      if (pendingKey === undefined) {
        this.skipWhitespace();
        const c = this.peek();
        if (c === undefined) {
          this.truncated = true;
          break;
        }
        if (c === closer) {
          this.pos++;
          break;
        }
        if (c === ',') {
          this.pos++;
          this.skipWhitespace();
          const next = this.peek();
          if (next === closer) this.repairs.add(REPAIR.trailingComma);
          else if (next === ',' || expectMember) this.repairs.add(REPAIR.strayComma);
          expectMember = true;
          continue;
        }
        if (!expectMember) this.repairs.add(REPAIR.missingComma);
      }
      try {
        const key = pendingKey ?? this.parseKey();
        pendingKey = undefined;
        this.skipWhitespace();
        const sep = this.peek();
        if (sep === undefined) throw new EndOfInput();
        let value: unknown = null;
        if (sep === ':') {
          this.pos++;
          value = this.parseValue();
        } else if (sep === ',' || sep === closer) {
          // Pre-3.5 cgminer answered quit with `{"BYE","id":1}`.
          this.repairs.add(REPAIR.missingValue);
        } else {
          this.fail(`expected ':' after key "${excerpt(key)}"`);
        }
        this.setMember(object, key, value);
        expectMember = false;
      } catch (error) {
        if (!(error instanceof EndOfInput)) throw error;
        // Cut back to the last complete member and close.
        this.pos = this.text.length;
        this.truncated = true;
        break;
      }
    }
    this.depth--;
    return object;
  }

  private parseKey(): string {
    const c = this.peek();
    if (c === '"') return this.parseString();
    // `"X":""temp0":1`: a lost comma swallowed the opening quote of the next key.
    const match = /[A-Za-z_][A-Za-z0-9_ ]*"/y;
    match.lastIndex = this.pos;
    const found = match.exec(this.text);
    if (found) {
      this.pos += found[0].length;
      this.repairs.add(REPAIR.missingComma);
      return found[0].slice(0, -1);
    }
    if (c !== undefined && /[A-Za-z_]/.test(c) && /^[A-Za-z0-9_ ]*$/.test(this.text.slice(this.pos))) {
      throw new EndOfInput();
    }
    return this.fail(`expected a key, found '${c}'`);
  }

  private setMember(object: Record<string, unknown>, key: string, value: unknown): void {
    this.counted();
    let name = key;
    if (Object.hasOwn(object, name)) {
      this.repairs.add(REPAIR.duplicateKeys);
      if (this.keptDuplicates >= MAX_KEPT_DUPLICATES) {
        this.repairs.add(REPAIR.duplicatesDropped);
        return;
      }
      this.keptDuplicates++;
      // Next `#n` suffix per duplicated key, made only for objects that have duplicates.
      let duplicates = this.duplicateSuffixes.get(object);
      if (duplicates === undefined) {
        duplicates = new Map();
        this.duplicateSuffixes.set(object, duplicates);
      }
      let n = duplicates.get(key) ?? 2;
      while (Object.hasOwn(object, `${key}#${n}`)) n++; // only steps over a literal `key#n` in the input
      duplicates.set(key, n + 1);
      name = `${key}#${n}`;
    }
    // defineProperty so that a key named `__proto__` is data, not a prototype change.
    if (name === '__proto__') {
      Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
    } else {
      object[name] = value;
    }
  }

  private parseArrayBody(): unknown[] | Record<string, unknown> {
    this.enter();
    const array: unknown[] = [];
    let expectElement = true;
    for (;;) {
      this.skipWhitespace();
      const c = this.peek();
      if (c === undefined) {
        this.truncated = true;
        break;
      }
      if (c === ']') {
        this.pos++;
        break;
      }
      if (c === '}') {
        this.fail("'}' inside a list");
      }
      if (c === ',') {
        this.pos++;
        this.skipWhitespace();
        const next = this.peek();
        if (next === ']') this.repairs.add(REPAIR.trailingComma);
        else if (array.length === 0) this.repairs.add(REPAIR.leadingComma);
        else if (expectElement || next === ',') this.repairs.add(REPAIR.strayComma);
        expectElement = true;
        continue;
      }
      if (!expectElement) {
        const previous = this.text[this.lastNonSpaceBefore(this.pos)];
        this.repairs.add(previous === '}' && c === '{' ? REPAIR.gluedObjects : REPAIR.missingComma);
      }
      try {
        const element = this.parseValue();
        if (array.length === 0 && typeof element === 'string') {
          this.skipWhitespace();
          if (this.peek() === ':') {
            this.repairs.add(REPAIR.listAsObject);
            this.depth--;
            return this.parseObjectBody(element);
          }
        }
        this.counted();
        array.push(element);
        expectElement = false;
      } catch (error) {
        if (!(error instanceof EndOfInput)) throw error;
        this.pos = this.text.length;
        this.truncated = true;
        break;
      }
    }
    this.depth--;
    return array;
  }

  private lastNonSpaceBefore(index: number): number {
    let i = index - 1;
    while (i >= 0 && /\s/.test(this.text[i] ?? '')) i--;
    return i;
  }

  private parseStringValue(): string | null {
    const value = this.parseString();
    if (NON_FINITE_WORD.test(value)) {
      this.repairs.add(REPAIR.nan);
      return null;
    }
    return value;
  }

  private parseString(): string {
    const text = this.text;
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    let escapes = 0;
    // A char-code loop rather than a regex per run: a reply of 8 MiB of backslashes must stay linear.
    for (;;) {
      let i = this.pos;
      let c = 0;
      let control = false;
      while (i < text.length) {
        c = text.charCodeAt(i);
        if (c === 0x22 || c === 0x5c) break;
        // A raw control character is kept in the run (JSON.stringify escapes it again on the way
        // out): one slice for 8 MiB of them, not 8 million one-character appends.
        if (c < 0x20) control = true;
        i++;
      }
      if (control) this.repairs.add(REPAIR.controlChars);
      if (i >= text.length) throw new EndOfInput();
      if (i > runStart) out += text.slice(runStart, i);
      this.pos = i;
      if (c === 0x22) {
        this.pos++;
        return out;
      }
      out += this.parseEscape();
      // Each escape is an append: a string of millions of them is work the deadline must bound.
      if (++escapes % CHECK_EVERY === 0) this.checkTime?.(this.values);
      runStart = this.pos;
    }
  }

  private parseEscape(): string {
    const text = this.text;
    const e = text[this.pos + 1];
    if (e === undefined) throw new EndOfInput();
    this.pos += 2;
    switch (e) {
      case '"':
        return '"';
      case '\\':
        return '\\';
      case '/':
        return '/';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u': {
        const hex = text.slice(this.pos, this.pos + 4);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          this.pos += 4;
          return String.fromCharCode(Number.parseInt(hex, 16));
        }
        if (this.pos + 4 > text.length && /^[0-9a-fA-F]*$/.test(hex)) throw new EndOfInput();
        this.repairs.add(REPAIR.badEscape);
        return '\\u';
      }
      case "'":
        // Whatsminer M20S: `"\'20200917.22.REL\'"`.
        this.repairs.add(REPAIR.badEscape);
        return "'";
      default:
        // Keep an unknown escape as the two characters it was (a Windows path, say).
        this.repairs.add(REPAIR.badEscape);
        return `\\${e}`;
    }
  }

  /**
   * `+5`, `+0.25`, `+inf` (printf's `%+d`/`%+f`): the number without its sign. JSON.parse refuses
   * the reply, so only replies holding a `+` outside strings ever get here.
   */
  private parsePlusSigned(): unknown {
    const next = this.text.charCodeAt(this.pos + 1);
    if (Number.isNaN(next)) throw new EndOfInput();
    if (!isDigit(next) && next !== 0x2e && !isWordStart(next)) return this.fail("unexpected '+'");
    this.pos++;
    const value = isDigit(next) || next === 0x2e ? this.parseNumber() : this.parseWord();
    this.repairs.add(REPAIR.plusSign);
    return value;
  }

  private parseNumber(): number {
    const end = numberEnd(this.text, this.pos);
    if (end === -1) {
      if (this.pos + 1 >= this.text.length) throw new EndOfInput();
      return this.fail('malformed number');
    }
    // A number that runs into the end of input may have lost digits.
    if (end >= this.text.length) throw new EndOfInput();
    if (isWordStart(this.text.charCodeAt(end))) this.fail('malformed number');
    const start = this.pos;
    this.pos = end;
    return Number(this.text.slice(start, end));
  }

  private parseWord(): unknown {
    WORD.lastIndex = this.pos;
    const match = WORD.exec(this.text);
    if (!match) return this.fail('unexpected character');
    const word = match[0];
    const end = this.pos + word.length;
    if (end >= this.text.length) throw new EndOfInput();
    this.pos = end;
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    // printf("%f") of NaN/inf gives `nan`, `-nan`, `inf`; some emit `nan(0x…)` too.
    if (NON_FINITE_WORD.test(word.replace(/\(.*$/, ''))) {
      this.repairs.add(REPAIR.nan);
      return null;
    }
    this.pos -= word.length;
    return this.fail(`unexpected word '${word.slice(0, 20)}'`);
  }
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** [A-Za-z_] */
function isWordStart(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

/**
 * End of the number at `start` (`-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`), or -1 when none starts there.
 * Scanned by hand: a sticky RegExp allocates a match array per number, and stats replies hold
 * thousands of numbers (charCodeAt past the end is NaN, which no test accepts).
 */
function numberEnd(text: string, start: number): number {
  let i = start;
  if (text.charCodeAt(i) === 0x2d) i++;
  const integerStart = i;
  while (isDigit(text.charCodeAt(i))) i++;
  if (i > integerStart) {
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      while (isDigit(text.charCodeAt(i))) i++;
    }
  } else {
    if (text.charCodeAt(i) !== 0x2e) return -1;
    i++;
    const fractionStart = i;
    while (isDigit(text.charCodeAt(i))) i++;
    if (i === fractionStart) return -1;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let j = i + 1;
    const sign = text.charCodeAt(j);
    if (sign === 0x2b || sign === 0x2d) j++;
    const exponentStart = j;
    while (isDigit(text.charCodeAt(j))) j++;
    if (j > exponentStart) i = j;
  }
  return i;
}
