import { Inject, type OnModuleInit } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import { inEachOrganization, PLATFORM_ORGANIZATION_ID, type SignInFailure } from '../domain/identity/identity.events';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { emailHash, recordForUser, recordUnknownEmail, type ClientInfo } from './identity-journal';
import { verifyAgainstDecoy, verifyPassword, warmDecoy } from './password';
import { createSession, type NewSession } from './sessions';
import { findUserByEmail, organizationsOf, type User } from './users';

export interface SignInResult {
  user: User;
  session: NewSession;
  organizations: { id: string; name: string; slug: string; role: string }[];
  activeOrganizationId: string | null;
}

/** `POST /api/auth/sign-in`. */
export class SignInCommand extends Command<SignInResult> {
  constructor(
    readonly email: string,
    readonly password: string,
    /** The request's provenance; its actor (anonymous) becomes the user on success. */
    readonly metadata: EventMetadata,
    readonly client: ClientInfo,
  ) {
    super();
  }
}

/**
 * Checks the password and opens a session. Both outcomes are in the audit trail: `UserSignedIn`
 * in the session's transaction, `UserSignInFailed` before the 401 — in each of the user's
 * organizations, or the platform's for an unknown email. Neither holds the password or a hash.
 */
@CommandHandler(SignInCommand)
export class SignInHandler implements ICommandHandler<SignInCommand, SignInResult>, OnModuleInit {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  onModuleInit(): void {
    void warmDecoy().catch(() => undefined);
  }

  async execute({ email, password, metadata, client }: SignInCommand): Promise<SignInResult> {
    const found = await findUserByEmail(this.pool, email);
    // Unknown email and wrong password: same answer, and the same scrypt work for both.
    const ok = found ? await verifyPassword(password, found.passwordHash) : await verifyAgainstDecoy(password);
    if (!found || !ok) {
      await this.recordFailure(found?.id ?? null, email, found ? 'wrong_password' : 'unknown_email', metadata, client);
      throw new AppError('invalid_credentials', 'wrong email or password');
    }
    const user = { id: found.id, email: found.email, name: found.name };
    const actorMetadata: EventMetadata = { ...metadata, actor: { type: 'user', id: user.id } };
    return inTransaction(this.pool, async (db) => {
      const organizations = await organizationsOf(db, user.id);
      const activeOrganizationId = organizations[0]?.id ?? null;
      const session = await createSession(db, user.id, activeOrganizationId, this.config.sessionTtlHours);
      const event = { type: 'UserSignedIn' as const, data: { userId: user.id, sessionId: session.id, method: 'password' as const, ...client } };
      await recordForUser(db, this.store, user.id, inEachOrganization(organizations.map((o) => o.id), event), actorMetadata);
      return { user, session, organizations, activeOrganizationId };
    });
  }

  private async recordFailure(userId: string | null, email: string, reason: SignInFailure, metadata: EventMetadata, client: ClientInfo): Promise<void> {
    const failed = (hash: string | null) => ({ type: 'UserSignInFailed' as const, data: { userId, emailHash: hash, method: 'password' as const, reason, ...client } });
    if (userId === null) {
      const hash = emailHash(email);
      await recordUnknownEmail(this.pool, this.store, hash, { organizationId: PLATFORM_ORGANIZATION_ID, event: failed(hash) }, metadata);
      return;
    }
    await inTransaction(this.pool, async (db) => {
      const organizations = await organizationsOf(db, userId);
      await recordForUser(db, this.store, userId, inEachOrganization(organizations.map((o) => o.id), failed(null)), metadata);
    });
  }
}
