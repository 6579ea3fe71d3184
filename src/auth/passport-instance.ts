import { Passport } from 'passport';

/**
 * `@nestjs/passport` registers strategies on passport's process-wide singleton, so a second
 * app in the same process (tests, two API instances in one file) would silently swap the first
 * app's strategies — and their pool and schema — for its own. Our strategies register on a
 * throwaway instance instead, and each `AuthGuard` builds its own `Passport` with the strategy
 * instances of its own app.
 */
export function throwawayPassport(): InstanceType<typeof Passport> {
  return new Passport();
}
