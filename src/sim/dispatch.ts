// One request in, the reply's bytes out: access control (§7), multi-command joins (§4, §15) and the
// profile's handlers. Pure apart from the miner state it advances; no sockets here.
import { accessAllows, accessDenied, invalidCommand, reply } from './commands.js';
import { renderJoined, renderJson, renderTextBytes, status } from './render.js';
import type { SimRequest } from './request.js';
import type { Rng } from './rng.js';
import { advance, noteRate } from './state.js';
import type { CommandCtx, MinerState, Profile, Reply, SimMinerView } from './types.js';

export interface DispatchTarget {
  view: SimMinerView;
  profile: Profile;
  state: MinerState;
  rng: Rng;
}

export interface Dispatched {
  /** The reply as it goes on the wire: UTF-8, with the profile's NUL terminator (§1). */
  body: Buffer;
  after?: 'restart' | 'quit';
}

export function dispatch(target: DispatchTarget, request: SimRequest, now: number): Dispatched {
  const { profile, state } = target;
  advance(state, profile, now);
  const dispatched = answer(target, request, now);
  // A command that paused, resumed or restarted the boards anchors the decaying averages now.
  noteRate(state, now);
  return dispatched;
}

function answer(target: DispatchTarget, request: SimRequest, now: number): Dispatched {
  const { profile, state } = target;
  const when = profile.whenIsUptime ? Math.floor((now - state.bootedAtMs) / 1000) : Math.floor(now / 1000);
  const ctx: CommandCtx = {
    miner: target.view,
    state,
    profile,
    now,
    parameter: request.parameter,
    newApi: request.newApi,
    inJoin: false,
    rng: target.rng,
  };
  const render = (r: Reply): Buffer =>
    request.json ? renderJson(r, profile, when) : renderTextBytes(r, profile, when);

  if (request.error) {
    const s =
      request.error.Code === 14
        ? request.error
        : status(request.error.STATUS, request.error.Code, request.error.Msg, profile.description);
    return { body: render({ type: 'std', status: s }) };
  }
  if (request.native) {
    const r = profile.native
      ? profile.native(request.native.cmd, request.native.body, ctx)
      : reply(ctx, 'E', 24, "Missing JSON 'command'");
    return { body: render(r), after: ctx.after };
  }
  const command = request.command ?? '';
  if (command.includes('+')) {
    if (!profile.joins) return { body: render(invalidCommand()) };
    return { body: renderJoined(runJoin(ctx, command), profile, when, request.json) };
  }
  const spec = profile.commands[command];
  if (!spec) return { body: render(invalidCommand()) };
  if (!accessAllows(state.access, command, spec)) return { body: render(accessDenied(ctx, command)) };
  const r = spec.run(ctx);
  return { body: render(r), after: ctx.after };
}

/** Each member once, empty names skipped, parameters dropped, privileged ones always E/45 (§15). */
function runJoin(ctx: CommandCtx, command: string): Array<[string, Reply]> {
  const parts: Array<[string, Reply]> = [];
  const seen = new Set<string>();
  for (const name of command.split('+')) {
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    const spec = ctx.profile.commands[name];
    if (!spec) {
      parts.push([name, invalidCommand()]);
    } else if (spec.access === 'write' || !spec.joinable || !accessAllows(ctx.state.access, name, spec)) {
      parts.push([name, accessDenied(ctx, name)]);
    } else {
      parts.push([name, spec.run({ ...ctx, parameter: null, inJoin: true })]);
    }
  }
  return parts;
}
