import { Module, type DynamicModule } from '@nestjs/common';
import { AuditEventsController } from './audit-events.controller';
import { AuditSealController } from './audit-seal.controller';
import { AuditSigningKeyProvider } from './audit-signing-key';
import { AuditVerifications } from './audit-verifications';
import { CheckpointerService } from './checkpointer.service';

/**
 * The audit trail: reading the organization's events (`audit-events`), and proving them — the
 * sealer projection, signed checkpoints, verification and export (`audit-seal`).
 */
@Module({})
export class AuditModule {
  static register(options: { http: boolean; checkpointer: boolean }): DynamicModule {
    return {
      module: AuditModule,
      controllers: options.http ? [AuditEventsController, AuditSealController] : [],
      providers: [AuditSigningKeyProvider, AuditVerifications, ...(options.checkpointer ? [CheckpointerService] : [])],
    };
  }
}
