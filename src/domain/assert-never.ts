/** Exhaustiveness check for `switch` over a discriminated union: a missing case fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
