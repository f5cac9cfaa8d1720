// Replies to bytes: the cgminer JSON envelope (§3.1), the plain-text form (§3.2) and the keyed
// multi-command layout (§4), with each profile's own quirks (sorted keys, glued `}{`).
import { JsonWriter, type Rec, toJson, toText } from './json.js';
import type { Profile, Reply, Status } from './types.js';

/** Sections that text mode introduces with a bare name token (`SUMMARY,Elapsed=…`). */
const NAMED_TEXT_SECTIONS = new Set(['SUMMARY', 'VERSION', 'CONFIG', 'COIN', 'ASCS', 'PGAS', 'LCD']);

function writeStatus(w: JsonWriter, status: Status, when: number): void {
  w.raw('{"STATUS":"');
  w.raw(status.STATUS);
  w.raw('","When":');
  w.number(when);
  w.raw(',"Code":');
  w.number(status.Code);
  w.raw(',"Msg":');
  w.string(status.Msg);
  if (status.Description !== undefined) {
    w.raw(',"Description":');
    w.string(status.Description);
  }
  w.byte(0x7d);
}

function writeJson(w: JsonWriter, reply: Reply, profile: Profile, when: number): void {
  if (reply.type === 'bare') {
    w.raw(reply.text);
    return;
  }
  if (reply.type === 'object') {
    w.value(reply.object, false);
    return;
  }
  w.raw('{"STATUS":[');
  writeStatus(w, reply.status, when);
  w.byte(0x5d);
  if (reply.section !== undefined && reply.records !== undefined) {
    w.raw(',"');
    w.raw(reply.section);
    w.raw('":[');
    const records = reply.records;
    const sortKeys = profile.sortKeys === true;
    for (let i = 0; i < records.length; i++) {
      // bmminer prints the STATS header without a separator before the first device (§12 #1).
      if (i > 0 && !(reply.glue && i === 1)) w.byte(0x2c);
      w.value(records[i] as Rec, sortKeys);
    }
    w.byte(0x5d);
  }
  w.raw(',"id":1}');
}

/** One scratch buffer for every reply: rendering is synchronous, so replies never interleave. */
const scratch = new JsonWriter();

/** The reply's bytes on the wire in JSON mode, with the profile's NUL terminator (§1). */
export function renderJson(reply: Reply, profile: Profile, when: number): Buffer {
  writeJson(scratch.reset(), reply, profile, when);
  return scratch.finish(profile.nul);
}

/** The reply's bytes on the wire in text mode (§3.2). */
export function renderTextBytes(reply: Reply, profile: Profile, when: number): Buffer {
  return textBytes(renderText(reply, when), profile);
}

function textBytes(text: string, profile: Profile): Buffer {
  return Buffer.from(profile.nul ? `${text}\0` : text, 'utf8');
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
): Buffer {
  if (!json)
    return textBytes(
      parts.map(([name, reply]) => `CMD=${name}|${renderText(reply, when)}`).join(''),
      profile,
    );
  const w = scratch.reset();
  w.byte(0x7b);
  for (const [name, reply] of parts) {
    w.string(name);
    w.raw(':[');
    writeJson(w, reply, profile, when);
    w.raw('],');
  }
  w.raw('"id":1}');
  return w.finish(profile.nul);
}

export function status(letter: Status['STATUS'], code: number, msg: string, description?: string): Status {
  return description === undefined
    ? { STATUS: letter, Code: code, Msg: msg }
    : { STATUS: letter, Code: code, Msg: msg, Description: description };
}
