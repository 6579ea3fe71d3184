import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import type { CreatedOrganization } from '../organizations/create-organization';
import { recordForUser, type ClientInfo } from './identity-journal';
import { personalOrganizationName, registerUserIn, strongPasswordHash } from './register-user';
import { createSession, type NewSession } from './sessions';
import type { User } from './users';

export interface SignUpResult {
  user: User;
  organization: CreatedOrganization;
  session: NewSession;
}

/** `POST /api/auth/sign-up`: a user, their personal organization (as owner) and a session. */
export class SignUpCommand extends Command<SignUpResult> {
  constructor(
    /** Normalised already. */
    readonly email: string,
    readonly password: string,
    readonly name: string | null,
    readonly metadata: EventMetadata,
    readonly client: ClientInfo,
  ) {
    super();
  }
}

@CommandHandler(SignUpCommand)
export class SignUpHandler implements ICommandHandler<SignUpCommand, SignUpResult> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async execute({ email, password, name, metadata, client }: SignUpCommand): Promise<SignUpResult> {
    await this.assertSignUpAllowed(email);
    const passwordHash = await strongPasswordHash(password);
    // One transaction: the account, its organization, the session and the session's audit fact.
    return inTransaction(this.pool, async (db) => {
      const { user, organization } = await registerUserIn(db, this.store, { email, passwordHash, name, organizationName: personalOrganizationName(email, name), metadata });
      const session = await createSession(db, user.id, organization.id, this.config.sessionTtlHours);
      const signedIn = { type: 'UserSignedIn' as const, data: { userId: user.id, sessionId: session.id, method: 'sign_up' as const, ...client } };
      await recordForUser(db, this.store, user.id, [{ organizationId: organization.id, event: signedIn }], { ...metadata, actor: { type: 'user', id: user.id } });
      return { user, organization, session };
    });
  }

  /** THODARE_SIGNUP: `open`; `invite` = only emails with a pending invitation; `closed` = nobody. */
  private async assertSignUpAllowed(email: string): Promise<void> {
    if (this.config.signup === 'open') return;
    if (this.config.signup === 'invite') {
      const { rowCount } = await this.pool.query('SELECT 1 FROM invitations WHERE email = $1 AND accepted_at IS NULL AND expires_at > now() LIMIT 1', [email]);
      if (rowCount) return;
      throw new AppError('signup_closed', 'sign-up on this server is by invitation only, and this email has no pending invitation');
    }
    throw new AppError('signup_closed', 'sign-up is closed on this server; ask an administrator (thodare admin create)');
  }
}
