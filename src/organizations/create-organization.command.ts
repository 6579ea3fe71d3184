import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { identityChanged } from '../auth/credential-cache';
import { createOrganization, type CreatedOrganization } from './create-organization';

/** `POST /api/organizations`: a new organization owned by the signed-in user. */
export class CreateOrganizationCommand extends Command<CreatedOrganization> {
  constructor(
    readonly userId: string,
    readonly name: string,
    readonly slug: string | undefined,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(CreateOrganizationCommand)
export class CreateOrganizationHandler implements ICommandHandler<CreateOrganizationCommand, CreatedOrganization> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ userId, name, slug, metadata }: CreateOrganizationCommand): Promise<CreatedOrganization> {
    const created = await inTransaction(this.pool, (client) =>
      createOrganization(client, this.store, { name, ...(slug ? { slug } : {}), ownerUserId: userId, metadata }),
    );
    identityChanged(); // a user with no organization falls back to this one
    return created;
  }
}
