import type { Projection } from '../event-store/projection';
import type { OrganizationEvent } from '../domain/organization/organization.events';

/** `invitations`: pending and accepted invitations (the token hash lives in `invitation_tokens`). */
export const invitationsProjection: Projection = {
  name: 'invitations',
  mode: 'inline',
  handles: ['InvitationCreated', 'InvitationAccepted'],
  tables: ['invitations'],
  async apply(db, event) {
    const e = event as unknown as OrganizationEvent;
    if (e.type === 'InvitationCreated') {
      await db.query(
        `INSERT INTO invitations (id, organization_id, email, role, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT ON CONSTRAINT invitations_pkey DO NOTHING`,
        [e.data.invitationId, event.organizationId, e.data.email, e.data.role, e.data.expiresAt, event.recordedAt],
      );
    } else if (e.type === 'InvitationAccepted') {
      await db.query('UPDATE invitations SET accepted_at = $3, accepted_by = $4 WHERE id = $1 AND organization_id = $2', [
        e.data.invitationId,
        event.organizationId,
        event.recordedAt,
        e.data.userId,
      ]);
    }
  },
};
