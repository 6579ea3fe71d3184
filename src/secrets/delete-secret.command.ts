import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { changeSecret } from './secret.events';

/** Deletes an organization secret; `not_found` when the name is not stored. */
export class DeleteSecretCommand extends Command<void> {
  constructor(
    readonly organizationId: string,
    readonly name: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(DeleteSecretCommand)
export class DeleteSecretHandler implements ICommandHandler<DeleteSecretCommand, void> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, name, metadata }: DeleteSecretCommand): Promise<void> {
    await changeSecret(this.pool, this.store, {
      organizationId,
      name,
      metadata,
      decide: (stored) => {
        if (!stored) throw new NotFound(`secret "${name}"`);
        return { type: 'SecretDeleted', data: { name } } as const;
      },
      write: async (client) => {
        await client.query('DELETE FROM secrets WHERE organization_id = $1 AND name = $2', [organizationId, name]);
      },
    });
  }
}
