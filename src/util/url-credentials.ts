// The credentials a URL may carry (`stratum+tcp://user:password@host`), masked wherever hashctl
// shows a pool URL to someone who may hand the output on: control's summaries and log, probe's view.

export const MASK = '***';

/**
 * The user-info of a URL up to its last `@` (a password may hold one): not whitespace, a quote,
 * `/` or `,` (which separates addpool's fields: `stratum+tcp://host:3333,acct@mail,x` has none).
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s'"`/,]*@/gi;

/**
 * `text` with the credentials of any URL in it masked: `stratum+tcp://***@host:3333`. The host
 * still says which pool it is.
 */
export function maskUrlCredentials(text: string): string {
  return text.includes('@') ? text.replace(URL_CREDENTIALS, `$1${MASK}@`) : text;
}
