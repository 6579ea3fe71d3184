import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { Queryable } from '../event-store/projection';

export interface User {
  id: string;
  email: string;
  name: string | null;
}

/** Inserts a user; 409 `email_taken` when the (normalised) email exists. */
export async function insertUser(db: Queryable, user: { email: string; name: string | null; passwordHash: string }): Promise<User> {
  const id = randomUUID();
  try {
    await db.query('INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)', [id, user.email, user.name, user.passwordHash]);
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'users_email_key') throw new AppError('email_taken', 'an account with this email already exists');
    throw error;
  }
  return { id, email: user.email, name: user.name };
}

export async function findUserByEmail(db: Queryable, email: string): Promise<(User & { passwordHash: string }) | undefined> {
  const { rows } = await db.query<{ id: string; email: string; name: string | null; password_hash: string }>(
    'SELECT id, email, name, password_hash FROM users WHERE email = $1',
    [email],
  );
  const row = rows[0];
  return row && { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash };
}

export async function findUser(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query<User>('SELECT id, email, name FROM users WHERE id = $1', [id]);
  return rows[0];
}

/** The organizations a user belongs to, oldest membership first. */
export async function organizationsOf(db: Queryable, userId: string): Promise<{ id: string; name: string; slug: string; role: string }[]> {
  const { rows } = await db.query<{ id: string; name: string; slug: string; role: string }>(
    `SELECT o.id, o.name, o.slug, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
     WHERE m.user_id = $1 ORDER BY m.joined_at, o.id`,
    [userId],
  );
  return rows;
}
