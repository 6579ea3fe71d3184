/**
 * Thrown at start-up when a deployment's connector list cannot be served: every problem is
 * listed, so one start attempt shows all of them. Never thrown at request time.
 */
export class InvalidConnectors extends Error {
  readonly code = 'invalid_connectors';
  constructor(
    readonly problems: readonly string[],
    /** Where the list came from (a `--connectors` module), named in the message. */
    source?: string,
  ) {
    super(`Invalid connectors${source ? ` in ${source}` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidConnectors';
  }
}

const KINDS: ReadonlySet<unknown> = new Set(['trigger', 'action', 'wait']);

/**
 * The problems of a deployment's own connectors, checked against the builtin types: anything not
 * made by `defineConnector` (it derives `hiddenParams` and `agentParams`), zod objects missing
 * for `params`/`outputs`, an action without `run`, a type used twice. Empty when all is well.
 * Values come from user modules, so nothing about their shape is assumed.
 */
export function connectorProblems(custom: readonly unknown[], builtinTypes: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>(builtinTypes.map((type) => [type, 'a builtin connector']));
  custom.forEach((candidate, index) => {
    const label = labelOf(candidate, index);
    const own = definitionProblems(candidate);
    problems.push(...own.map((problem) => `${label}: ${problem}`));
    const type = typeOf(candidate);
    if (type === undefined) return;
    const previous = seen.get(type);
    if (previous) problems.push(`${label}: type '${type}' is already taken by ${previous}`);
    else seen.set(type, `connector #${index + 1}`);
  });
  return problems;
}

function definitionProblems(candidate: unknown): string[] {
  if (typeof candidate !== 'object' || candidate === null) {
    return [`expected a connector made by defineConnector, got ${candidate === null ? 'null' : typeof candidate}`];
  }
  const c = candidate as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof c.type !== 'string' || c.type === '') problems.push('has no type');
  if (!(c.hiddenParams instanceof Set) || !(c.userOnlyParams instanceof Set) || !isZodObject(c.agentParams)) {
    problems.push('was not made by defineConnector (wrap the definition in defineConnector({...}))');
  }
  if (!isZodObject(c.params)) problems.push('params must be a zod object (z.object({...}))');
  if (!isZodObject(c.outputs)) problems.push('outputs must be a zod object (z.object({...}))');
  if (!KINDS.has(c.kind)) problems.push(`kind must be 'trigger', 'action' or 'wait' (got ${JSON.stringify(c.kind)})`);
  if (c.kind === 'action' && typeof c.run !== 'function') problems.push('an action needs a run function');
  else if (c.run !== undefined && typeof c.run !== 'function') problems.push('run must be a function');
  return problems;
}

/** Structural, so a connector built against another copy of zod is recognised too. */
function isZodObject(value: unknown): boolean {
  const v = value as { safeParse?: unknown; shape?: unknown } | null | undefined;
  return typeof v?.safeParse === 'function' && typeof v.shape === 'object' && v.shape !== null;
}

function typeOf(candidate: unknown): string | undefined {
  const type = (candidate as { type?: unknown } | null | undefined)?.type;
  return typeof type === 'string' && type !== '' ? type : undefined;
}

function labelOf(candidate: unknown, index: number): string {
  const type = typeOf(candidate);
  return type === undefined ? `connector #${index + 1}` : `connector #${index + 1} ('${type}')`;
}
