// Structural checks of a SARIF 2.1.0 log against the schema's required properties and enums
// (sarifLog, run, tool, toolComponent, reportingDescriptor, result, message, location), plus what
// GitHub code scanning adds: repository-relative artifact URIs and a numeric security-severity.
// Returns the list of problems (empty when valid).

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const LEVELS = ['none', 'note', 'warning', 'error'];

/**
 * RFC 3986 URI reference, as SARIF §3.4.3 requires of every `uri`: only unreserved, reserved and
 * `%XX` characters (a `%` not followed by two hex digits, a space or a non-ASCII letter is invalid).
 */
export function isUriReference(uri: string): boolean {
  return /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/.test(uri);
}

export function sarifProblems(log: unknown): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  if (!isObject(log)) return ['log is not an object'];
  need(log.version === '2.1.0', 'version must be "2.1.0"');
  need(
    typeof log.$schema === 'string' && /sarif-schema-2\.1\.0|sarif-2\.1\.0/.test(log.$schema),
    '$schema must name SARIF 2.1.0',
  );
  need(Array.isArray(log.runs), 'runs must be an array');
  for (const [r, run] of (Array.isArray(log.runs) ? log.runs : []).entries()) {
    if (!isObject(run)) {
      problems.push(`runs[${r}] is not an object`);
      continue;
    }
    const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : null;
    need(driver !== null, `runs[${r}].tool.driver is required`);
    if (!driver) continue;
    need(typeof driver.name === 'string' && driver.name.length > 0, 'driver.name is required');
    if (driver.informationUri !== undefined)
      need(typeof driver.informationUri === 'string', 'driver.informationUri must be a string');
    const rules = Array.isArray(driver.rules) ? driver.rules : [];
    const ruleIds = new Set<string>();
    for (const [i, rule] of rules.entries()) {
      const where = `rules[${i}]`;
      if (!isObject(rule)) {
        problems.push(`${where} is not an object`);
        continue;
      }
      need(typeof rule.id === 'string' && rule.id.length > 0, `${where}.id is required`);
      need(!ruleIds.has(String(rule.id)), `${where}.id is duplicated`);
      ruleIds.add(String(rule.id));
      for (const key of ['shortDescription', 'fullDescription', 'help']) {
        if (rule[key] !== undefined)
          need(
            isObject(rule[key]) && typeof (rule[key] as Json).text === 'string',
            `${where}.${key}.text is required`,
          );
      }
      const config = rule.defaultConfiguration;
      if (config !== undefined)
        need(
          isObject(config) && LEVELS.includes(String(config.level)),
          `${where}.defaultConfiguration.level is invalid`,
        );
      const severity = isObject(rule.properties) ? rule.properties['security-severity'] : undefined;
      need(
        typeof severity === 'string' && Number(severity) >= 0 && Number(severity) <= 10,
        `${where} security-severity must be "0.0".."10.0"`,
      );
    }
    need(Array.isArray(run.results), `runs[${r}].results must be an array`);
    for (const [i, result] of (Array.isArray(run.results) ? run.results : []).entries()) {
      const where = `results[${i}]`;
      if (!isObject(result)) {
        problems.push(`${where} is not an object`);
        continue;
      }
      need(
        isObject(result.message) && typeof result.message.text === 'string' && result.message.text.length > 0,
        `${where}.message.text is required`,
      );
      need(
        typeof result.ruleId === 'string' && ruleIds.has(result.ruleId),
        `${where}.ruleId must name a driver rule`,
      );
      if (result.ruleIndex !== undefined) {
        const rule = rules[Number(result.ruleIndex)] as Json | undefined;
        need(rule?.id === result.ruleId, `${where}.ruleIndex must point at its rule`);
      }
      if (result.level !== undefined)
        need(LEVELS.includes(String(result.level)), `${where}.level is invalid`);
      const locations = Array.isArray(result.locations) ? result.locations : [];
      need(locations.length > 0, `${where}.locations needs one location (code scanning)`);
      for (const location of locations) {
        const uri =
          isObject(location) &&
          isObject(location.physicalLocation) &&
          isObject(location.physicalLocation.artifactLocation)
            ? location.physicalLocation.artifactLocation.uri
            : undefined;
        need(
          typeof uri === 'string' && uri.length > 0,
          `${where} physicalLocation.artifactLocation.uri is required`,
        );
        need(
          typeof uri === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(uri) && !uri.startsWith('/'),
          `${where} artifact uri must be repository-relative, got ${String(uri)}`,
        );
        need(
          typeof uri === 'string' && isUriReference(uri),
          `${where} artifact uri must be a valid URI reference (RFC 3986), got ${String(uri)}`,
        );
        const region =
          isObject(location) && isObject(location.physicalLocation)
            ? location.physicalLocation.region
            : undefined;
        if (region !== undefined)
          need(
            isObject(region) && Number.isInteger(region.startLine) && Number(region.startLine) >= 1,
            `${where} region.startLine must be >= 1`,
          );
      }
      if (result.partialFingerprints !== undefined) {
        need(
          isObject(result.partialFingerprints) &&
            Object.values(result.partialFingerprints).every((v) => typeof v === 'string'),
          `${where}.partialFingerprints values must be strings`,
        );
      }
    }
  }
  return problems;
}
