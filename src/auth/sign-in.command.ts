import { Inject, type OnModuleInit } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError } from '../errors';
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
  ) {
    super();
  }
}

@CommandHandler(SignInCommand)
export class SignInHandler implements ICommandHandler<SignInCommand, SignInResult>, OnModuleInit {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  onModuleInit(): void {
    void warmDecoy().catch(() => undefined);
  }

  async execute({ email, password }: SignInCommand): Promise<SignInResult> {
    const found = await findUserByEmail(this.pool, email);
    // Unknown email and wrong password: same answer, and the same scrypt work for both.
    const ok = found ? await verifyPassword(password, found.passwordHash) : await verifyAgainstDecoy(password);
    if (!found || !ok) throw new AppError('invalid_credentials', 'wrong email or password');
    const organizations = await organizationsOf(this.pool, found.id);
    const activeOrganizationId = organizations[0]?.id ?? null;
    const session = await createSession(this.pool, found.id, activeOrganizationId, this.config.sessionTtlHours);
    return { user: { id: found.id, email: found.email, name: found.name }, session, organizations, activeOrganizationId };
  }
}
