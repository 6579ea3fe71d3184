import { Module } from '@nestjs/common';
import { RunFailureAnnouncer } from './run-failure-announcer';
import { RunWorker } from './run-worker.service';

/** The replay worker of runs, and the announcer of their failures (processes with the worker role). Needs `RunsModule` (global). */
@Module({ providers: [RunWorker, RunFailureAnnouncer], exports: [RunWorker] })
export class RunWorkerModule {}
