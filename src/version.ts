// Filled in by the bundler (scripts/build.mjs); running from sources reads package.json instead.
declare const __HASHCTL_VERSION__: string | undefined;
declare const __HASHCTL_COMMIT__: string | undefined;

export const VERSION: string = typeof __HASHCTL_VERSION__ === 'string' ? __HASHCTL_VERSION__ : '0.0.0-dev';
export const COMMIT: string = typeof __HASHCTL_COMMIT__ === 'string' ? __HASHCTL_COMMIT__ : 'unknown';
export const USER_AGENT = `hashctl/${VERSION}`;

/** What `hashctl --version` prints (without the newline). */
export function versionLine(): string {
  return `hashctl ${VERSION} (commit ${COMMIT})`;
}
