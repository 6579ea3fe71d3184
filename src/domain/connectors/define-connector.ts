import type { z } from 'zod';
import {
  type Connector,
  type ConnectorConfig,
  type ConnectorRun,
  DEFAULT_POLICY_BOUNDS,
  DEFAULT_RETRY_POLICY,
  type PolicyBounds,
  type Range,
  type OutputsSchema,
  type ParamsSchema,
} from './connector';
import { visibilityOf } from './visibility';

/** Thrown at definition time (module load) for a connector that cannot work; never at request time. */
export class InvalidConnectorDefinition extends Error {
  readonly code = 'invalid_connector_definition';
  constructor(type: string, problem: string) {
    super(`connector '${type}': ${problem}`);
    this.name = 'InvalidConnectorDefinition';
  }
}

/**
 * `run` is required for actions. Waits have none (the runtime executes them); a trigger's may be
 * omitted, its output then being the run input as the runtime received it.
 */
export type DefineConnectorInput<P extends ParamsSchema, O extends OutputsSchema> = Omit<
  ConnectorConfig<P, O>,
  'kind' | 'run'
> &
  (
    | { kind: 'wait'; run?: undefined }
    | { kind: 'trigger'; run?: ConnectorRun<P, O> }
    | { kind: 'action'; run: ConnectorRun<P, O> }
  );

const TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Declares a connector. Its zod `params`/`outputs` objects drive run-time validation, the types
 * of `run`'s arguments and the catalog's JSON Schema. Derived data (hidden and user-only param
 * sets, the agent-visible params schema) is computed here once.
 *
 * Invariants checked (throws `InvalidConnectorDefinition`): snake_case `type`; every `secrets`
 * key is a hidden param; every required hidden param is bound to a secret; every `overridable`
 * range is well formed (`0 ≤ min ≤ max`); only actions are `pure`, and a pure one binds no secret.
 */
export function defineConnector<P extends ParamsSchema, O extends OutputsSchema>(
  input: DefineConnectorInput<P, O>,
): Connector<P, O> {
  if (!TYPE_PATTERN.test(input.type)) {
    throw new InvalidConnectorDefinition(input.type, 'type must match ^[a-z][a-z0-9_]{0,63}$');
  }
  if (input.pure && input.kind !== 'action') {
    throw new InvalidConnectorDefinition(input.type, 'only action connectors may be pure');
  }
  if (input.pure && Object.keys(input.secrets ?? {}).length > 0) {
    throw new InvalidConnectorDefinition(input.type, 'a pure connector cannot bind secrets (reading them is I/O)');
  }
  const hiddenParams = new Set<string>();
  const userOnlyParams = new Set<string>();
  for (const [key, schema] of Object.entries(input.params.shape as Record<string, z.ZodType>)) {
    const visibility = visibilityOf(schema);
    if (visibility === 'hidden') hiddenParams.add(key);
    if (visibility === 'user-only') userOnlyParams.add(key);
  }
  const secrets = { ...(input.secrets ?? {}) };
  checkSecretBindings(input.type, input.params, hiddenParams, secrets);
  const overridable = boundsOf(input);
  const omitted = Object.fromEntries([...hiddenParams].map((key) => [key, true])) as Record<
    string,
    true
  > &
    Record<number, never>;
  return {
    ...input,
    retry: input.retry ?? DEFAULT_RETRY_POLICY,
    overridable,
    secrets,
    hiddenParams,
    userOnlyParams,
    agentParams: hiddenParams.size > 0 ? input.params.omit(omitted) : input.params,
  } as Connector<P, O>;
}

function checkSecretBindings(
  type: string,
  params: ParamsSchema,
  hiddenParams: ReadonlySet<string>,
  secrets: Record<string, string>,
): void {
  for (const key of Object.keys(secrets)) {
    if (!hiddenParams.has(key)) {
      throw new InvalidConnectorDefinition(type, `secret binding '${key}' is not a hidden param`);
    }
  }
  const shape = params.shape as Record<string, z.ZodType>;
  for (const key of hiddenParams) {
    const required = !shape[key]?.safeParse(undefined).success;
    if (required && secrets[key] === undefined) {
      throw new InvalidConnectorDefinition(
        type,
        `required hidden param '${key}' has no secret binding`,
      );
    }
  }
}

function boundsOf(input: { type: string; kind: string; overridable?: PolicyBounds }): PolicyBounds {
  if (input.kind !== 'action') {
    if (input.overridable) {
      throw new InvalidConnectorDefinition(input.type, 'only action connectors may be overridable');
    }
    return {};
  }
  const bounds = input.overridable ?? DEFAULT_POLICY_BOUNDS;
  const ranges: [string, Range | undefined][] = [
    ['retry.maxAttempts', bounds.retry?.maxAttempts],
    ['retry.intervalMs', bounds.retry?.intervalMs],
    ['timeoutMs', bounds.timeoutMs],
  ];
  for (const [name, range] of ranges) {
    if (range && !(range.min >= 0 && range.min <= range.max && Number.isFinite(range.max))) {
      throw new InvalidConnectorDefinition(input.type, `overridable ${name} needs 0 <= min <= max`);
    }
  }
  return bounds;
}
