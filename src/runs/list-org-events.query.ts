import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import { listOrgEvents, orgEventById, type OrgEventView } from './org-events';

/** `GET /api/events`: the organization's publications within their retention, newest first. */
export class ListOrgEventsQuery extends Query<{ data: OrgEventView[]; next: string | null }> {
  constructor(
    readonly organizationId: string,
    readonly page: { name?: string; after?: string; limit: number },
  ) {
    super();
  }
}

/** `GET /api/events/:id`: one publication — what it started and reached; 404 once it expired. */
export class GetOrgEventQuery extends Query<OrgEventView> {
  constructor(
    readonly organizationId: string,
    readonly eventId: string,
  ) {
    super();
  }
}

@QueryHandler(ListOrgEventsQuery)
export class ListOrgEventsHandler implements IQueryHandler<ListOrgEventsQuery> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  execute({ organizationId, page }: ListOrgEventsQuery) {
    return listOrgEvents(this.pool, organizationId, page);
  }
}

@QueryHandler(GetOrgEventQuery)
export class GetOrgEventHandler implements IQueryHandler<GetOrgEventQuery> {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async execute({ organizationId, eventId }: GetOrgEventQuery): Promise<OrgEventView> {
    const event = await orgEventById(this.pool, organizationId, eventId);
    if (!event) throw new NotFound('event');
    return event;
  }
}
