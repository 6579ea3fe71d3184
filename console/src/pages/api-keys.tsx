import { useState, type FormEvent } from 'react';
import { api, query } from '../api';
import { LoadMore } from '../components/load-more';
import { ErrorNotice, Loading } from '../components/notice';
import { Page } from '../components/page';
import { Status } from '../components/status';
import { formatTime } from '../format';
import type { ApiKeyPage, CreatedApiKey } from '../types';
import { usePages } from '../use-pages';

type ListedKey = ApiKeyPage['data'][number];
const ROLES = ['viewer', 'member', 'admin', 'owner'];

/** The organization's API keys: list (prefixes only), create (the key is shown once), revoke. */
export function ApiKeysPage() {
  const pages = usePages<ListedKey>((after) => `/api/api-keys${query({ limit: 200, after })}`);
  const [created, setCreated] = useState<CreatedApiKey>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const expires = String(form.get('expiresAt') ?? '');
    setBusy(true);
    setError(undefined);
    try {
      const body = { name: String(form.get('name')).trim(), role: String(form.get('role')), ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}) };
      setCreated(await api<CreatedApiKey>('/api/api-keys', { method: 'POST', body }));
      formElement.reset();
      pages.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const revoke = (key: ListedKey) => {
    setError(undefined);
    api(`/api/api-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' }).then(pages.reload, setError);
  };
  return (
    <Page title="API keys">
      <section aria-labelledby="create-heading" className="card">
        <h2 id="create-heading">Create a key</h2>
        <form className="filters" onSubmit={(e) => void create(e)}>
          <label>
            Name
            <input name="name" required maxLength={100} />
          </label>
          <label>
            Role
            <select name="role" defaultValue="member">
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
          <label>
            Expires (optional, your local time)
            <input name="expiresAt" type="datetime-local" />
          </label>
          <button type="submit" disabled={busy}>
            Create key
          </button>
        </form>
        <ErrorNotice error={error} />
        {created ? (
          <div className="notice notice-ok" role="status">
            <p>
              Key “{created.name}” created. Copy it now: it is shown only this once.
            </p>
            <p>
              <code className="secret" data-testid="new-key">
                {created.key}
              </code>
            </p>
          </div>
        ) : null}
      </section>
      <ErrorNotice error={pages.error} what="Could not list the keys" />
      {pages.loading ? <Loading what="keys" /> : null}
      {pages.items.length > 0 ? (
        <table>
          <caption>API keys, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {pages.items.map((key) => (
              <tr key={key.id} data-key={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{key.role}</td>
                <td>{key.revokedAt ? <Status value="revoked" /> : <Status value="active" />}</td>
                <td>{formatTime(key.createdAt)}</td>
                <td>{formatTime(key.lastUsedAt)}</td>
                <td>{key.expiresAt ? formatTime(key.expiresAt) : 'never'}</td>
                <td>
                  {key.revokedAt ? null : (
                    <button type="button" className="danger" onClick={() => revoke(key)} aria-label={`Revoke ${key.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore pages={pages} what="keys" />
    </Page>
  );
}
