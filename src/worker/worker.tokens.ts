/** The resolved database URL (embedded or `DATABASE_URL`), for dedicated LISTEN connections. */
export const DATABASE_URL = Symbol('DatabaseUrl');
