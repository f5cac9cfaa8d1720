// Where each key path of a JSON text starts, so config errors can name the line. A small scanner
// over text that JSON.parse already accepted (it trusts the syntax; no validation here).

/** Maps 'a.b.0.c' (the zod issue path joined by dots) to its 1-based line number. */
export function jsonPathLines(text: string): Map<string, number> {
  return scan(text, true).lines;
}

/** A key given twice in one object (JSON.parse keeps the last, silently). */
export interface DuplicateKey {
  /** The key path, joined by dots as zod's issue paths are ('thermal.sites.north'). */
  path: string;
  /** The line of its last occurrence (the one JSON.parse keeps). */
  line: number;
  firstLine: number;
}

/** The first key written twice in the same object, in reading order (null: none). */
export function firstDuplicateKey(text: string): DuplicateKey | null {
  return scan(text, false).duplicate;
}

function scan(
  text: string,
  recordLines: boolean,
): { lines: Map<string, number>; duplicate: DuplicateKey | null } {
  const lines = new Map<string, number>();
  let duplicate: DuplicateKey | null = null;
  let i = 0;
  let line = 1;

  const skipSpace = (): void => {
    while (i < text.length) {
      const ch = text[i];
      if (ch === '\n') line++;
      else if (ch !== ' ' && ch !== '\t' && ch !== '\r') return;
      i++;
    }
  };
  const skipString = (): void => {
    // To the next quote not escaped by an odd run of backslashes (indexOf: a config of 200,000
    // targets is scanned on every load).
    for (let from = i + 1; ; ) {
      const quote = text.indexOf('"', from);
      if (quote < 0) {
        i = text.length;
        return;
      }
      let backslash = quote - 1;
      while (text[backslash] === '\\') backslash--;
      if ((quote - 1 - backslash) % 2 === 0) {
        i = quote + 1;
        return;
      }
      from = quote + 1;
    }
  };
  const readString = (): string => {
    const start = i;
    skipString();
    return JSON.parse(text.slice(start, i)) as string;
  };
  // An explicit stack, not recursion: `[[[[…` 200,000 deep is valid JSON (JSON.parse takes it) and
  // must be a config error naming the key, not a stack overflow.
  const open: { path: string; isObject: boolean; index: number; keys: Map<string, number> | null }[] = [];
  /** Starts the value at `path`: a scalar is skipped, an object or array is pushed. */
  const startValue = (path: string): void => {
    skipSpace();
    if (recordLines && path !== '' && !lines.has(path)) lines.set(path, line);
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      i++;
      open.push({
        path,
        isObject: ch === '{',
        index: 0,
        keys: ch === '{' && duplicate === null ? new Map() : null,
      });
    } else if (ch === '"') {
      skipString();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    }
  };
  const child = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
  startValue('');
  while (open.length > 0) {
    const container = open[open.length - 1]!;
    skipSpace();
    if (text[i] === ',') {
      i++;
      skipSpace();
    }
    if (i >= text.length || text[i] === (container.isObject ? '}' : ']')) {
      i++;
      open.pop();
    } else if (container.isObject) {
      const keyLine = line;
      const key = readString();
      const keyPath = child(container.path, key);
      if (recordLines) lines.set(keyPath, keyLine);
      const firstLine = container.keys?.get(key);
      if (firstLine !== undefined && duplicate === null)
        duplicate = { path: keyPath, line: keyLine, firstLine };
      container.keys?.set(key, keyLine);
      skipSpace();
      i++; // colon
      startValue(keyPath);
    } else {
      startValue(child(container.path, String(container.index++)));
    }
  }
  return { lines, duplicate };
}

/** The line of the nearest enclosing path that is known ('a.b.c' → 'a.b' → 'a'). */
export function lineOf(lines: Map<string, number>, path: (string | number)[]): number | null {
  for (let n = path.length; n > 0; n--) {
    const found = lines.get(path.slice(0, n).join('.'));
    if (found !== undefined) return found;
  }
  return null;
}

/** Line and column of a character offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
