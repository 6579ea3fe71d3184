import type { Projection } from '../event-store/projection';
import type { OrganizationEvent } from '../domain/organization/organization.events';

/** `memberships`: who belongs to which organization with which role. The auth guard reads it per request. */
export const membershipsProjection: Projection = {
  name: 'memberships',
  mode: 'inline',
  handles: ['MemberAdded', 'MemberRoleChanged', 'MemberRemoved'],
  tables: ['memberships'],
  async apply(db, event) {
    const e = event as unknown as OrganizationEvent;
    switch (e.type) {
      case 'MemberAdded':
        await db.query(
          `INSERT INTO memberships (organization_id, user_id, role, joined_at, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at`,
          [event.organizationId, e.data.userId, e.data.role, event.recordedAt],
        );
        return;
      case 'MemberRoleChanged':
        await db.query('UPDATE memberships SET role = $3, updated_at = $4 WHERE organization_id = $1 AND user_id = $2', [
          event.organizationId,
          e.data.userId,
          e.data.to,
          event.recordedAt,
        ]);
        return;
      case 'MemberRemoved':
        await db.query('DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2', [event.organizationId, e.data.userId]);
        return;
      default:
        return;
    }
  },
};
