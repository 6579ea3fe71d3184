import { Module } from '@nestjs/common';
import { RunWorker } from './run-worker.service';

/** The replay worker of runs (processes with the worker role). Needs `RunsModule` (global). */
@Module({ providers: [RunWorker], exports: [RunWorker] })
export class RunWorkerModule {}
