import type { Config } from '../config/config';
import { eventsChannel } from '../database/database.module';
import { migrate } from '../database/migrate';
import { createPool } from '../database/pool';
import { EventStore } from '../event-store/event-store';
import { ALL_PROJECTIONS, findProjection } from '../app/projections';
import { rebuildProjection } from '../projections/rebuild';
import { loadConnectors } from './connectors-module';
import { resolveDatabase } from './database';

/** `thodare projections rebuild <name>`. */
export async function rebuild(config: Config, name: string, print: (line: string) => void): Promise<void> {
  const projection = findProjection(name);
  if (!projection) throw new Error(`unknown projection "${name}"; known: ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}`);
  // The deployment's connector list, checked as every role checks it: a rebuild must not run
  // against a deployment whose list would not start.
  await loadConnectors(config);
  const database = await resolveDatabase(config);
  const pool = createPool(database.url, config.schema, 2);
  try {
    await migrate(database.url, config.schema);
    const started = Date.now();
    const { events, swap } = await rebuildProjection(pool, new EventStore(pool, eventsChannel(config.schema), ALL_PROJECTIONS), projection);
    print(`rebuilt ${name} from ${events} events in ${Date.now() - started} ms`);
    if (swap) {
      print(`swapped in live: ${swap.updated} rows updated, ${swap.inserted} inserted, ${swap.deleted} deleted; ` +
        `${swap.caughtUp} events caught up while writers waited ${swap.lockedMs} ms`);
    }
  } finally {
    await pool.end();
    await database.embedded?.stop();
  }
}
