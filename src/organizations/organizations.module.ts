import { Module, type DynamicModule } from '@nestjs/common';
import { AcceptInvitationHandler } from './accept-invitation.command';
import { ChangeMemberRoleHandler } from './change-member-role.command';
import { CreateInvitationHandler } from './create-invitation.command';
import { CreateOrganizationHandler } from './create-organization.command';
import { InvitationsController } from './invitations.controller';
import { ListInvitationsHandler } from './list-invitations.query';
import { ListMembersHandler } from './list-members.query';
import { ListOrganizationsHandler } from './list-organizations.query';
import { MembersController } from './members.controller';
import { OrganizationsController } from './organizations.controller';
import { RemoveMemberHandler } from './remove-member.command';

const commandHandlers = [CreateOrganizationHandler, ChangeMemberRoleHandler, RemoveMemberHandler, CreateInvitationHandler, AcceptInvitationHandler];
const queryHandlers = [ListOrganizationsHandler, ListMembersHandler, ListInvitationsHandler];

/** Organizations, members and invitations: facts on `org-<id>` streams, read models beside them. */
@Module({})
export class OrganizationsModule {
  static register(options: { http: boolean }): DynamicModule {
    return {
      module: OrganizationsModule,
      controllers: options.http ? [OrganizationsController, MembersController, InvitationsController] : [],
      providers: [...commandHandlers, ...queryHandlers],
    };
  }
}
