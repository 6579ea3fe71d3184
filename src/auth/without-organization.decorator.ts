import { SetMetadata } from '@nestjs/common';

export const WITHOUT_ORGANIZATION = 'thodare:without-organization';

/**
 * A route a signed-in user may call even when they belong to no organization any more
 * (they left their last one): session, sign-out, listing/creating organizations, accepting
 * an invitation. Every other route needs an organization (403 `no_organization`).
 */
export const WithoutOrganization = () => SetMetadata(WITHOUT_ORGANIZATION, true);
