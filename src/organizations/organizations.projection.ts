import type { Projection } from '../event-store/projection';
import type { OrganizationEvent } from '../domain/organization/organization.events';

/** `organizations`: one row per organization (name, unique slug). */
export const organizationsProjection: Projection = {
  name: 'organizations',
  mode: 'inline',
  handles: ['OrganizationCreated'],
  tables: ['organizations'],
  async apply(db, event) {
    const e = event as unknown as OrganizationEvent;
    if (e.type !== 'OrganizationCreated') return;
    await db.query(
      `INSERT INTO organizations (id, name, slug, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING`,
      [event.organizationId, e.data.name, e.data.slug, e.data.createdBy, event.recordedAt],
    );
  },
};
