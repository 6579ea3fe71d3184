// Where `npm run peers` keeps its copy of ../shared/peers and which Postgres the peers use, for
// every script that runs them (scripts/peers.mjs, scripts/peers-jit.mjs).
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The harness copy, with its dependencies and the adapters `npm run peers` derives. */
export const harness = join(tmpdir(), 'thodare-peers');
/** PEERS_PG: an admin URL of a Postgres whose role may CREATE DATABASE (default: this machine's shared server). */
export const pg = process.env.PEERS_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
