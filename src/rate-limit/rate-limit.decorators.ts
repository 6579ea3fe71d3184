import { SetMetadata } from '@nestjs/common';

export const NO_RATE_LIMIT = 'thodare:no-rate-limit';
export const AUTH_RATE_LIMIT = 'thodare:auth-rate-limit';

/**
 * Exempts a route or controller from every budget: probes (`/health`, `/ready`) and the API
 * documentation, which orchestrators and browsers fetch freely and which touch no tenant data.
 */
export const NoRateLimit = () => SetMetadata(NO_RATE_LIMIT, true);

/**
 * Spends the credential-guessing budget (`THODARE_AUTH_RATE_LIMIT_PER_MIN`, per client address)
 * instead of the general one. `POST /api/auth/sign-in` and `/sign-up` get it without the
 * decorator (see `AUTH_ROUTES`); use it on any other route that checks a guessable secret.
 */
export const AuthRateLimit = () => SetMetadata(AUTH_RATE_LIMIT, true);

export const WEBHOOK_RATE_LIMIT = 'thodare:webhook-rate-limit';

/**
 * Spends the delivery budget of the webhook the URL names (`THODARE_WEBHOOK_RATE_LIMIT_PER_MIN`
 * per token) instead of the general one: a busy sender is limited per webhook, not per address.
 */
export const WebhookRateLimit = () => SetMetadata(WEBHOOK_RATE_LIMIT, true);

/** Routes limited by the auth budget whoever declares them, as `METHOD path-pattern`. */
export const AUTH_ROUTES: ReadonlySet<string> = new Set(['POST /api/auth/sign-in', 'POST /api/auth/sign-up']);
