/**
 * A statement's rows as its one JSON parameter: each row's `columns`, keyed by their snake_case
 * names (`runId` as `run_id`), as the statement's `json_to_recordset` names them; a row's missing
 * value is NULL there.
 *
 * Why the read models send rows this way rather than as parallel arrays (`unnest($1::text[], …)`):
 * pg builds an array parameter in JavaScript, escaping each element with two regular-expression
 * passes; and every parameter goes through one serializer the whole process shares with the run
 * path. An array of numbers, of Buffers or of NULLs, or a Buffer, reaching that serializer after
 * V8 optimised it on the run path's text parameters, deoptimised it, and each time it was compiled
 * again: 4–18 ms of compiling a time, in a fresh process (`scripts/peers-jit.mjs`). Bytes travel
 * as hex text, decoded in SQL (`decode(…, 'hex')`).
 */
export function recordsOf(rows: readonly object[], columns: readonly string[]): string {
  const keys = columns.map(snakeCase);
  return JSON.stringify(
    rows.map((row) => {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) record[keys[i]!] = (row as Record<string, unknown>)[columns[i]!];
      return record;
    }),
  );
}

const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
