// Replies to bytes: the cgminer JSON envelope (§3.1), the plain-text form (§3.2) and the keyed
// multi-command layout (§4), with each profile's own quirks (sorted keys, glued `}{`).
import { type Rec, toJson, toText } from './json.js';
import type { Profile, Reply, Status } from './types.js';

/** Sections that text mode introduces with a bare name token (`SUMMARY,Elapsed=…`). */
const NAMED_TEXT_SECTIONS = new Set(['SUMMARY', 'VERSION', 'CONFIG', 'COIN', 'ASCS', 'PGAS', 'LCD']);

function statusJson(status: Status, when: number): string {
  let out = `{"STATUS":"${status.STATUS}","When":${when},"Code":${status.Code},"Msg":${JSON.stringify(status.Msg)}`;
  if (status.Description !== undefined) out += `,"Description":${JSON.stringify(status.Description)}`;
  return `${out}}`;
}

export function renderJson(reply: Reply, profile: Profile, when: number): string {
  if (reply.type === 'bare') return reply.text;
  if (reply.type === 'object') return toJson(reply.object);
  let out = `{"STATUS":[${statusJson(reply.status, when)}]`;
  if (reply.section !== undefined && reply.records !== undefined) {
    out += `,"${reply.section}":[`;
    const records = reply.records;
    for (let i = 0; i < records.length; i++) {
      // bmminer prints the STATS header without a separator before the first device (§12 #1).
      if (i > 0 && !(reply.glue && i === 1)) out += ',';
      out += toJson(records[i] as Rec, profile.sortKeys === true);
    }
    out += ']';
  }
  return `${out},"id":1}`;
}

export function renderText(reply: Reply, when: number): string {
  if (reply.type === 'bare') return reply.text;
  if (reply.type === 'object') return reply.text ?? toJson(reply.object);
  const s = reply.status;
  let out = `STATUS=${s.STATUS},When=${when},Code=${s.Code},Msg=${s.Msg}`;
  if (s.Description !== undefined) out += `,Description=${s.Description}`;
  out += '|';
  if (reply.section !== undefined && reply.records !== undefined) {
    const named = NAMED_TEXT_SECTIONS.has(reply.section);
    for (const record of reply.records) {
      const fields: string[] = named ? [reply.section] : [];
      for (const key of Object.keys(record)) {
        fields.push(`${key}=${toText(record[key] ?? null, reply.escapeText === true)}`);
      }
      out += `${fields.join(',')}|`;
    }
  }
  return out;
}

/** `{"summary":[{…}],"pools":[{…}],"id":1}` or, in text, `CMD=summary|…CMD=pools|…` (§4, §15). */
export function renderJoined(
  parts: Array<[string, Reply]>,
  profile: Profile,
  when: number,
  json: boolean,
): string {
  if (!json) return parts.map(([name, reply]) => `CMD=${name}|${renderText(reply, when)}`).join('');
  let out = '{';
  for (const [name, reply] of parts) out += `${JSON.stringify(name)}:[${renderJson(reply, profile, when)}],`;
  return `${out}"id":1}`;
}

export function status(letter: Status['STATUS'], code: number, msg: string, description?: string): Status {
  return description === undefined
    ? { STATUS: letter, Code: code, Msg: msg }
    : { STATUS: letter, Code: code, Msg: msg, Description: description };
}
