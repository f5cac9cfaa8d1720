// A resolver for the context's `lookup`, as tests hand it in: it knows only `names` (each to a
// loopback address), answers ENOTFOUND for anything else, and records every name it was asked, so
// a test can prove a name went through it and never through the system resolver.
import type { LookupFunction } from 'node:net';

export function lookupOf(names: Record<string, string>, asked: string[] = []): LookupFunction {
  return ((
    hostname: string,
    options: { all?: boolean } | undefined,
    callback: (...args: unknown[]) => void,
  ) => {
    asked.push(hostname);
    const address = names[hostname];
    if (address === undefined)
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    else if (options?.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  }) as unknown as LookupFunction;
}
