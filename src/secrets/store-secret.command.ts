import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { sealSecret } from './secret-cipher';
import { changeSecret } from './secret.events';
import { SecretKeyProvider } from './secret-key';

export interface StoredSecret {
  name: string;
  createdAt: Date;
  updatedAt: Date;
  /** True when the name existed: its value was replaced, `createdAt` kept. */
  replaced: boolean;
}

/** Stores (or replaces) an organization secret's value, sealed with the deployment key. */
export class StoreSecretCommand extends Command<StoredSecret> {
  constructor(
    readonly organizationId: string,
    readonly name: string,
    readonly value: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(StoreSecretCommand)
export class StoreSecretHandler implements ICommandHandler<StoreSecretCommand, StoredSecret> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(SecretKeyProvider) private readonly keys: SecretKeyProvider,
  ) {}

  async execute({ organizationId, name, value, metadata }: StoreSecretCommand): Promise<StoredSecret> {
    const { key } = await this.keys.key();
    const sealed = sealSecret(key, organizationId, name, value);
    return changeSecret(this.pool, this.store, {
      organizationId,
      name,
      metadata,
      decide: (stored) => ({ type: 'SecretStored', data: { name, replaced: stored } }),
      write: async (client, event) => {
        const { rows } = await client.query<{ created_at: Date; updated_at: Date }>(
          `INSERT INTO secrets (organization_id, name, ciphertext, iv, auth_tag, key_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (organization_id, name) DO UPDATE
             SET ciphertext = EXCLUDED.ciphertext, iv = EXCLUDED.iv, auth_tag = EXCLUDED.auth_tag,
                 key_id = EXCLUDED.key_id, updated_at = now()
           RETURNING created_at, updated_at`,
          [organizationId, name, sealed.ciphertext, sealed.iv, sealed.authTag, sealed.keyId],
        );
        const row = rows[0];
        if (!row) throw new Error('secret upsert returned no row');
        // `replaced` as decided: a change since our load would have failed the append.
        return { name, createdAt: row.created_at, updatedAt: row.updated_at, replaced: event.data.replaced };
      },
    });
  }
}
