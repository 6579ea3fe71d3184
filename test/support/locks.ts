import type { Pool } from 'pg';

/** Until the session `pid` waits for a lock (read through `pool`); throws after ~5 s. */
export async function waitUntilBlocked(pool: Pool, pid: number): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    const { rows } = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid]);
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`session ${pid} never waited for a lock`);
}
