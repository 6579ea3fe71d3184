import { SetMetadata } from '@nestjs/common';
import type { Role } from './principal';

export const REQUIRED_ROLE = 'thodare:required-role';

/** Ranks for `owner` > `admin` > `member` > `viewer`. */
export const ROLE_RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** The lowest role allowed to call the route; the role guard answers 403 `forbidden` below it. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);
