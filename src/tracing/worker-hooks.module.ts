import { Global, Module, type DynamicModule } from '@nestjs/common';
import { WORKER_HOOKS, type WorkerHooks } from './hooks';

/** Provides the embedder's `WORKER_HOOKS` to the run worker, wherever the root module imports it. */
@Global()
@Module({})
export class WorkerHooksModule {
  static register(hooks: readonly WorkerHooks[]): DynamicModule {
    return { module: WorkerHooksModule, providers: [{ provide: WORKER_HOOKS, useValue: hooks }], exports: [WORKER_HOOKS] };
  }
}

/** `root` importing the embedder's worker hooks too; `root` itself when there are none. */
export function withWorkerHooks(root: DynamicModule, hooks: WorkerHooks | readonly WorkerHooks[] | undefined): DynamicModule {
  const list = hooks === undefined ? [] : Array.isArray(hooks) ? (hooks as readonly WorkerHooks[]) : [hooks as WorkerHooks];
  if (list.length === 0) return root;
  return { ...root, imports: [...(root.imports ?? []), WorkerHooksModule.register(list)] };
}
