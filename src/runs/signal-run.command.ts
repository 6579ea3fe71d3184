import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { receiveSignal } from '../domain/run/run.commands';
import type { RunStatus } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { RunCommands } from './run-commands';

/** The answer to a signal. */
export interface SignalAccepted {
  runId: string;
  signalId: string;
  status: RunStatus;
  /** The same idempotency key was already delivered: nothing new was recorded. */
  duplicate: boolean;
}

/**
 * Sends a signal to one run: `SignalReceived` is stored whether or not the run waits yet, and
 * ends its `wait_for_event` on that name (correlation keys do not apply to a run's own signals).
 * An idempotency key makes the signal id, so a retried request lands once.
 */
export class SignalRunCommand extends Command<SignalAccepted> {
  constructor(
    readonly organizationId: string,
    readonly runId: string,
    readonly signal: { name: string; payload?: unknown; idempotencyKey?: string },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(SignalRunCommand)
export class SignalRunHandler implements ICommandHandler<SignalRunCommand, SignalAccepted> {
  constructor(@Inject(RunCommands) private readonly runs: RunCommands) {}

  async execute({ organizationId, runId, signal, metadata }: SignalRunCommand): Promise<SignalAccepted> {
    const signalId = signal.idempotencyKey ? `key:${signal.idempotencyKey}` : randomUUID();
    const { state, events } = await this.runs.command(runId, organizationId, metadata, (current) =>
      receiveSignal(
        current,
        { signalId, name: signal.name, ...(signal.payload !== undefined ? { payload: signal.payload } : {}), scope: 'run', now: new Date() },
        this.runs.limits,
      ),
    );
    return { runId, signalId, status: state.status, duplicate: events.length === 0 };
  }
}
