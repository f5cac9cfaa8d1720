// Who can do what on port 4028 from this host (audit-facts §2; CGMINER-API §7, §15).
import { assessAccess, describeOutcome } from '../access.js';
import { records } from '../identify.js';
import type { RuleDefinition } from '../types.js';
import { configuredPools, finding, minerLabel } from './helpers.js';

const RESTRICT =
  'Restrict the API to the management host(s): api-allow "R:<mgmt-ip>/32" (or W: only for the controller), ' +
  'drop api-network or firewall TCP 4028 from every other network.';

export const rpcWriteAccess: RuleDefinition = {
  id: 'rpc-write-access',
  name: 'RpcWriteAccess',
  defaultSeverity: 'critical',
  shortDescription: 'The miner API accepts write commands from this host',
  fullDescription:
    'The CGMiner-compatible API (TCP 4028) lets this host run privileged commands (change pools, quit, save, ' +
    'ascset, pause). Anyone with the same network position can redirect the hashrate or stop the miner. ' +
    'Detected read-only: `privileged` answering S/46, or `check|<write>` answering Access Y.',
  help:
    'Detected without writing: `privileged` → S/46 means W access; `check|addpool` (or save, pause, ascset, curtail) ' +
    'with Access "Y" means that write is available. Fix: set api-allow so only the management host has W ' +
    '(e.g. "W:10.0.0.5/32"); never "W:0/0".',
  evaluate(input) {
    const access = assessAccess(input);
    const checkList = Object.entries(access.checks)
      .map(
        ([command, answer]) =>
          `check|${command} → ${answer} (${describeOutcome(input.reads[`check|${command}`])})`,
      )
      .join('; ');
    const evidenceTail = checkList === '' ? '' : `; ${checkList}`;
    if (access.privileged === 'granted') {
      return [
        finding(
          this,
          input,
          'critical',
          'Privileged (write) API access from this host',
          `privileged → ${describeOutcome(input.reads.privileged)}${evidenceTail}`,
          RESTRICT,
        ),
      ];
    }
    const accessible = Object.entries(access.checks).filter(([, answer]) => answer === 'accessible');
    if (accessible.length > 0) {
      return [
        finding(
          this,
          input,
          'high',
          `Write command${accessible.length > 1 ? 's' : ''} ${accessible.map(([command]) => command).join(', ')} available from this host`,
          `privileged → ${describeOutcome(input.reads.privileged)}${evidenceTail}`,
          input.identity.dialect === 'avalon'
            ? `${RESTRICT} Avalon accepts ascset (reboot, hash boards off, IP/DNS) with no credential: isolate the miner network.`
            : RESTRICT,
        ),
      ];
    }
    if (input.identity.dialect === 'luxos') {
      // LuxOS gates writes with a session any client can open (`logon`, no credential). The audit
      // never calls logon: it could lock the operator's own tooling out (audit-facts §2.4).
      return [
        finding(
          this,
          input,
          'high',
          'LuxOS writes need only a session that any client can open',
          'LUXminer firmware: curtail, tempctrlset, fanset and pool commands need a `logon` session that takes no credential (vendor: "not a security feature"); logon was not called by this audit',
          `${RESTRICT} LuxOS has no API credential, so network isolation is the only control.`,
        ),
      ];
    }
    if (input.identity.dialect === 'braiins' && access.write === 'unknown') {
      return [
        finding(
          this,
          input,
          'medium',
          'Braiins OS API documents pool and pause commands with no credential',
          `BOSminer: pause, resume, switchpool, enablepool, disablepool, addpool, removepool need no credential per the vendor docs; check|pause → ${describeOutcome(input.reads['check|pause'])}`,
          RESTRICT,
        ),
      ];
    }
    if (input.identity.dialect === 'whatsminer') {
      return [
        finding(
          this,
          input,
          'info',
          'Whatsminer write API state unknown',
          'btminer v2 offers no read-only way to tell whether the write API is enabled; get_token was not called (it spends the operator’s token quota)',
          'In WhatsMinerTool keep the API disabled unless needed and change the admin password from the default.',
        ),
      ];
    }
    const privileged = input.reads.privileged;
    if (
      access.write === 'unknown' &&
      privileged?.ok === true &&
      (access.privileged === 'unknown' || access.privileged === 'unsupported')
    ) {
      // `privileged` answered, but neither a grant nor a refusal (an S that is not S/46, or E/14: the
      // firmware has no such command), and no `check` settled it. Said, so that the absence of a
      // write-access finding is not read as "no write access".
      return [
        finding(
          this,
          input,
          'info',
          'Write access from this host could not be determined',
          `privileged → ${describeOutcome(privileged)}, not S/46 "Privileged access OK" nor E/45${evidenceTail}; ${
            privileged.status === 'S'
              ? "the miner answers outside the CGMiner API's codes"
              : 'no probe answered for or against write access'
          }`,
          `Check api-allow on the miner itself. ${RESTRICT}`,
        ),
      ];
    }
    return [];
  },
};

export const rpcReadable: RuleDefinition = {
  id: 'rpc-readable',
  name: 'RpcReadable',
  defaultSeverity: 'medium',
  shortDescription: 'The miner API discloses pools, workers and hashrate without authentication',
  fullDescription:
    'Anyone who can reach TCP 4028 reads the model, firmware, pool URLs, worker names (often wallet addresses) ' +
    'and hashrate in plain text. The API has no TLS and no read authentication.',
  help: 'Limit who can reach TCP 4028 (firewall, management VLAN, api-allow "R:<mgmt-ip>/32").',
  evaluate(input) {
    const access = assessAccess(input);
    const version = input.reads.version;
    if (access.readable.length === 0 && version?.ok === false && version.error.kind === 'empty_reply') {
      // api-allow leaving this host out closes with zero bytes (audit-facts §2.2: record "no access").
      // Without a word of it the report read "0 findings on 1 miner", as for a miner read in full.
      return [
        finding(
          this,
          input,
          'info',
          'API closed to this host: nothing could be read from here',
          'version → closed with zero bytes: the miner’s api-allow does not list this host (or the port is no miner API); nothing was read, so no other check had anything to judge',
          'Audit again from a host the miner’s api-allow lists (R: is enough) to check its pools, firmware and write access.',
        ),
      ];
    }
    if (access.readable.length === 0) return [];
    const pools = configuredPools(input);
    const users = [
      ...new Set(pools.map((pool) => pool.user).filter((user): user is string => user !== null)),
    ];
    const summary = records(input.reads.summary, 'SUMMARY')[0];
    const disclosed: string[] = [`answered ${access.readable.join(', ')} without credentials`];
    disclosed.push(`miner: ${minerLabel(input)}`);
    if (pools.length > 0)
      disclosed.push(`${pools.length} pool(s): ${pools.map((pool) => pool.shown).join(', ')}`);
    if (users.length > 0) disclosed.push(`worker(s): ${users.join(', ')}`);
    if (summary) {
      // The field, not its value: a live rate would make every run's report differ from the last
      // (a reviewer diffs them), and the value itself adds nothing to the finding.
      const field = ['GHS 5s', 'MHS 5s', 'GHS av', 'MHS av'].find((key) => summary[key] !== undefined);
      if (field !== undefined) disclosed.push(`hashrate (${field})`);
    }
    const exposesWorkers = pools.length > 0;
    return [
      finding(
        this,
        input,
        exposesWorkers ? 'medium' : 'low',
        exposesWorkers
          ? 'API readable: pools and workers disclosed to anyone who can reach it'
          : 'API readable without authentication',
        disclosed.join('; '),
        RESTRICT,
      ),
    ];
  },
};
