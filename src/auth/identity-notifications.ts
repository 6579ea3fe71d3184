import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { Notifier } from '../event-store/notifier';
import { everyPeriod, type Periodic } from '../periodic';
import { identityChanged, UNPROVEN_TTL_MS, type IdentityHearing } from './credential-cache';

/** The channel every change to sessions, memberships and API keys notifies (migration 0031). */
export function identityChannel(schema: string): string {
  return `${schema}.identity`;
}

/** How often the listener proves it hears: three beats fit in `UNPROVEN_TTL_MS`, so one lost or late beat costs no lookups. */
const BEAT_MS = Math.floor(UNPROVEN_TTL_MS / 3);

/**
 * Keeps an API process's credential caches (`CredentialCache`) in step with identity changes
 * made anywhere: every notification on the identity channel empties them. And it proves that the
 * listener hears, so that they may keep principals for `THODARE_AUTH_CACHE_MS` rather than under
 * a second: every `BEAT_MS` it sends itself a beat on its own channel over the listening
 * connection, and a beat heard means every notification committed before it was sent has been
 * heard too (Postgres delivers them in commit order). A listener that goes quiet — a dead
 * connection, a database away — proves nothing past its last beat, and the caches fall back to
 * looking up what they kept for longer than `UNPROVEN_TTL_MS`. Every reconnect empties them,
 * since a change may have gone unheard meanwhile.
 */
@Injectable()
export class IdentityNotifications implements IdentityHearing, OnApplicationBootstrap, OnModuleDestroy {
  private heard = -Infinity;
  private timer: Periodic | undefined;
  /** This process's own channel: nobody else's beats arrive on it. */
  private readonly beats: string;

  constructor(
    @Inject(Notifier) private readonly notifier: Notifier,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.beats = `${identityChannel(config.schema)}.${randomUUID().slice(0, 8)}`;
  }

  heardUpTo(): number {
    return this.heard;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.notifier.listen(identityChannel(this.config.schema), () => identityChanged());
    await this.notifier.listen(this.beats, (sentAt) => {
      if (typeof sentAt === 'number') this.heard = Math.max(this.heard, sentAt);
    });
    this.notifier.onConnect(() => identityChanged());
    await this.notifier.start();
    this.timer = everyPeriod(BEAT_MS, () => void this.notifier.notify(this.beats, performance.now()), { unref: true });
  }

  onModuleDestroy(): void {
    this.timer?.stop();
  }
}
