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
  const value = (path: string): void => {
    skipSpace();
    if (path !== '' && !lines.has(path)) lines.set(path, line);
    const ch = text[i];
    if (ch === '{') {
      i++;
      for (;;) {
        skipSpace();
        if (text[i] === '}') break;
        const keyLine = line;
        const key = readString();
        const child = path === '' ? key : `${path}.${key}`;
        lines.set(child, keyLine);
        skipSpace();
        i++; // colon
        value(child);
        skipSpace();
        if (text[i] === ',') i++;
      }
      i++;
    } else if (ch === '[') {
      i++;
      let index = 0;
      for (;;) {
        skipSpace();
        if (text[i] === ']') break;
        value(path === '' ? String(index) : `${path}.${index}`);
        index++;
        skipSpace();
        if (text[i] === ',') i++;
      }
      i++;
    } else if (ch === '"') {
      readString();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    }
  };
  value('');
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
