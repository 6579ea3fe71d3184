import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { ErrorNotice } from '../components/notice';
import { Page } from '../components/page';
import { Standalone } from '../components/standalone';
import type { SignInResult } from '../types';

/** Email and password → a session; the API sets it as an HttpOnly cookie, which is all the console keeps. */
export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      await api<SignInResult>('/api/auth/sign-in', { method: 'POST', body: { email: String(form.get('email')), password: String(form.get('password')) } });
      onSignedIn();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Standalone>
      <Page title="Sign in">
        <form className="stack" onSubmit={(e) => void submit(e)}>
          <label>
            Email
            <input name="email" type="email" autoComplete="username" required />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <ErrorNotice error={error} what="Could not sign in" />
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </Page>
    </Standalone>
  );
}
