import { useState, type ChangeEvent, type ReactNode } from 'react';
import { ErrorNotice } from './components/notice';
import { Link, useLocation } from './router';
import { useSession } from './session';

const SECTIONS = [
  { to: '/runs', label: 'Runs' },
  { to: '/workflows', label: 'Workflows' },
  { to: '/schedules', label: 'Schedules' },
  { to: '/approvals', label: 'Approvals' },
  { to: '/audit', label: 'Audit' },
  { to: '/api-keys', label: 'API keys' },
];

/**
 * The frame of every signed-in page: a skip link, the sections, the organization switch and
 * sign-out. The page is keyed by organization, so switching reloads everything it shows.
 */
export function Shell({ children }: { children: ReactNode }) {
  const { session, organizations, switchOrganization, signOut } = useSession();
  const { path } = useLocation();
  const [error, setError] = useState<unknown>();
  const onSwitch = (event: ChangeEvent<HTMLSelectElement>) => {
    setError(undefined);
    switchOrganization(event.target.value).catch(setError);
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Thodare</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((section) => (
              <li key={section.to}>
                <Link to={section.to} aria-current={path === section.to || path.startsWith(`${section.to}/`) ? 'page' : undefined}>
                  {section.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <label>
            Organization
            <select value={session.organizationId} onChange={onSwitch}>
              {organizations.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name} ({o.role})
                </option>
              ))}
            </select>
          </label>
          <span className="muted">{session.user?.email ?? 'API key'}</span>
          <button type="button" className="secondary" onClick={() => void signOut().catch(setError)}>
            Sign out
          </button>
        </div>
      </header>
      <ErrorNotice error={error} />
      <main id="main" tabIndex={-1} key={session.organizationId}>
        {children}
      </main>
    </>
  );
}
