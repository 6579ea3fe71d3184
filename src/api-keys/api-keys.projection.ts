import type { Projection } from '../event-store/projection';
import type { OrganizationEvent } from '../domain/organization/organization.events';

/** `api_keys`: name, prefix, role, expiry, revocation (the key hash lives in `api_key_credentials`). */
export const apiKeysProjection: Projection = {
  name: 'api_keys',
  mode: 'inline',
  handles: ['ApiKeyCreated', 'ApiKeyRevoked'],
  tables: ['api_keys'],
  async apply(db, event) {
    const e = event as unknown as OrganizationEvent;
    if (e.type === 'ApiKeyCreated') {
      await db.query(
        `INSERT INTO api_keys (id, organization_id, name, prefix, role, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT ON CONSTRAINT api_keys_pkey DO NOTHING`,
        [e.data.apiKeyId, event.organizationId, e.data.name, e.data.prefix, e.data.role, JSON.stringify(event.metadata.actor), event.recordedAt, e.data.expiresAt],
      );
    } else if (e.type === 'ApiKeyRevoked') {
      await db.query('UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND organization_id = $2 AND revoked_at IS NULL', [
        e.data.apiKeyId,
        event.organizationId,
        event.recordedAt,
      ]);
    }
  },
};
