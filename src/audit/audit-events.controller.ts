import { Controller } from '@nestjs/common';

/** `GET /api/audit/events`: the organization's events in commit order (admin+). */
@Controller('api/audit')
export class AuditEventsController {}
