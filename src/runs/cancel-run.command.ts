import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { requestCancel } from '../domain/run/run.commands';
import type { RunStatus } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { RunCommands } from './run-commands';

/** The answer to a cancel request. */
export interface CancelRequested {
  runId: string;
  status: RunStatus;
  cancelRequested: true;
}

/**
 * Asks a run to stop: appends `RunCancelRequested` (woken worker aborts the running connector
 * calls, records `RunCancelled`, nothing downstream runs). 409 `run_finished` once it ended; a
 * repeated request changes nothing.
 */
export class CancelRunCommand extends Command<CancelRequested> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
    readonly metadata: EventMetadata,
    readonly reason?: string,
  ) {
    super();
  }
}

@CommandHandler(CancelRunCommand)
export class CancelRunHandler implements ICommandHandler<CancelRunCommand, CancelRequested> {
  constructor(@Inject(RunCommands) private readonly runs: RunCommands) {}

  async execute({ organizationId, runId, metadata, reason }: CancelRunCommand): Promise<CancelRequested> {
    const by = `${metadata.actor.type}:${metadata.actor.id}`;
    const { state } = await this.runs.command(runId, organizationId, metadata, (current) =>
      requestCancel(current, { by, now: new Date(), ...(reason ? { reason } : {}) }),
    );
    return { runId, status: state.status, cancelRequested: true };
  }
}
