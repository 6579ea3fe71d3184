/**
 * Thrown by `append` when the stream is not at the version the writer expected: another writer
 * appended first. Callers reload and decide again, or report 409/412.
 */
export class StreamVersionConflict extends Error {
  readonly code = 'version_conflict';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, not the expected ${expectedVersion}`);
  }
}

/** Thrown when a batch is refused before it reaches the database (empty, too large). */
export class InvalidAppend extends Error {
  readonly code = 'invalid_append';
}
