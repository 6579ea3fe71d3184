import { SetMetadata } from '@nestjs/common';

export const OPENS_SESSION = 'thodare:opens-session';

/**
 * A public route that signs a browser in (sets the session cookie): sign-in and sign-up. The
 * auth guard refuses such a request from a page of another site (login CSRF, see `csrf.ts`).
 */
export const OpensSession = () => SetMetadata(OPENS_SESSION, true);
