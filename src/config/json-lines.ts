// Where each key path of a JSON text starts, so config errors can name the line. A small scanner
// over text that JSON.parse already accepted (it trusts the syntax; no validation here).

/** Maps 'a.b.0.c' (the zod issue path joined by dots) to its 1-based line number. */
export function jsonPathLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
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
  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++; // closing quote
    return JSON.parse(text.slice(start, i)) as string;
  };
  // An explicit stack, not recursion: `[[[[…` 200,000 deep is valid JSON (JSON.parse takes it) and
  // must be a config error naming the key, not a stack overflow.
  const open: { path: string; isObject: boolean; index: number }[] = [];
  /** Starts the value at `path`: a scalar is skipped, an object or array is pushed. */
  const startValue = (path: string): void => {
    skipSpace();
    if (path !== '' && !lines.has(path)) lines.set(path, line);
    const ch = text[i];
    if (ch === '{' || ch === '[') {
      i++;
      open.push({ path, isObject: ch === '{', index: 0 });
    } else if (ch === '"') {
      readString();
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
      const keyPath = child(container.path, readString());
      lines.set(keyPath, keyLine);
      skipSpace();
      i++; // colon
      startValue(keyPath);
    } else {
      startValue(child(container.path, String(container.index++)));
    }
  }
  return lines;
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
