import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError } from '../errors';
import { ConcurrencyLimit } from '../http/concurrency-limit';

/** Verifications one organization may run at once on an instance. */
const PER_ORGANIZATION = 1;
const RETRY_AFTER_MS = 5_000;

/**
 * `GET /api/audit/verify` recomputes an organization's whole chain on the serving process: about
 * 20 µs of CPU per event, so minutes for a trail of millions. It gives way to other requests
 * (`TimeSlice`), but each verification running at once adds a slice to every turn of the event
 * loop, so they are bounded: one per organization, `THODARE_MAX_AUDIT_VERIFICATIONS` per instance.
 */
@Injectable()
export class AuditVerifications {
  private readonly running: ConcurrencyLimit;

  constructor(@Inject(CONFIG) config: Pick<Config, 'maxAuditVerifications'>) {
    this.running = new ConcurrencyLimit(PER_ORGANIZATION, config.maxAuditVerifications);
  }

  /** A place for one verification of `organizationId` (call the answer when it ends), or 429 `audit_busy`. */
  begin(organizationId: string): () => void {
    const end = this.running.tryTake(organizationId);
    if (end) return end;
    throw new AppError(
      'audit_busy',
      this.running.count(organizationId) >= PER_ORGANIZATION
        ? 'A verification of this organization\'s audit trail is already running on this instance; retry when it ends'
        : 'This instance is verifying as many audit trails as it may at once (THODARE_MAX_AUDIT_VERIFICATIONS); retry shortly',
      { retryAfterMs: RETRY_AFTER_MS },
    );
  }
}
