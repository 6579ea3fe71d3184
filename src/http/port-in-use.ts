/**
 * A listen that failed because its port is taken, told with the setting that chooses the port:
 * Node's own message (`listen EADDRINUSE: address already in use 0.0.0.0:3001`) does not say which
 * of a process's servers it was, and a worker is not expected to listen at all. Anything else is
 * returned as it is.
 */
export function portInUse(error: unknown, server: string, setting: string): unknown {
  const { code, address, port } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown };
  if (code !== 'EADDRINUSE') return error;
  return new Error(`${server} cannot listen on ${String(address)}:${String(port)}: the port is in use (${setting} chooses it; 0 picks a free one)`);
}
