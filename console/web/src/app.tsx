import { useEffect, useState } from 'react';
import { Link, Route, Router, Switch, useLocation } from 'wouter';
import { useHashLocation } from 'wouter/use-hash-location';
import type { SessionResponse } from '../../api';
import { api, onSignedOut, RequestError, setCsrfToken } from './api-client';
import { ErrorNote } from './components/status';
import { ApprovalsPage } from './pages/approvals';
import { AuditPage } from './pages/audit';
import { DeploymentPage, DeploymentsPage } from './pages/deployments';
import { LineagePage } from './pages/lineage';
import { ModelPage } from './pages/model';
import { ModelsPage } from './pages/models';
import { MonitorPage } from './pages/monitors';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SchedulesPage } from './pages/schedules';
import { SignIn } from './pages/sign-in';
import { SessionContext } from './session';

const sections = [
  ['/runs', 'Runs'],
  ['/approvals', 'Approvals'],
  ['/models', 'Models'],
  ['/lineage', 'Lineage'],
  ['/deployments', 'Deployments'],
  ['/schedules', 'Schedules'],
  ['/audit', 'Audit'],
] as const;

/** The console: sign-in until there is a session, then the pages, routed in the URL's hash. */
export function App() {
  // undefined while the server is asked whether the cookie still holds a session.
  const [session, setSession] = useState<SessionResponse | null>();
  const [error, setError] = useState<Error>();

  const adopt = (next: SessionResponse | null) => {
    setCsrfToken(next?.csrfToken);
    setSession(next);
  };

  useEffect(() => {
    api
      .get<SessionResponse>('/session')
      .then(adopt)
      .catch((e: unknown) => (e instanceof RequestError && e.status === 401 ? adopt(null) : setError(e as Error)));
    return onSignedOut(() => adopt(null));
  }, []);

  if (error) return <ErrorNote error={error} />;
  if (session === undefined) return <p className="muted">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={adopt} />;
  return (
    <SessionContext.Provider value={session}>
      <Router hook={useHashLocation}>
        <Header session={session} onSignOut={() => api.delete('/session').finally(() => adopt(null))} />
        <main>
          <Switch>
            <Route path="/runs/:runId">{(p) => <RunPage key={p.runId} runId={decodeURIComponent(p.runId)} />}</Route>
            <Route path="/approvals" component={ApprovalsPage} />
            <Route path="/models/:name/:version?">
              {(p) => <ModelPage key={p.name} name={decodeURIComponent(p.name)} version={p.version} />}
            </Route>
            <Route path="/models" component={ModelsPage} />
            <Route path="/lineage/:target?">
              {(p) => <LineagePage key={p.target} target={p.target && decodeURIComponent(p.target)} />}
            </Route>
            <Route path="/deployments/:name">{(p) => <DeploymentPage name={decodeURIComponent(p.name)} />}</Route>
            <Route path="/deployments" component={DeploymentsPage} />
            <Route path="/monitors/:name">{(p) => <MonitorPage name={decodeURIComponent(p.name)} />}</Route>
            <Route path="/schedules" component={SchedulesPage} />
            <Route path="/audit" component={AuditPage} />
            <Route component={RunsPage} />
          </Switch>
        </main>
      </Router>
    </SessionContext.Provider>
  );
}

function Header({ session, onSignOut }: { session: SessionResponse; onSignOut: () => void }) {
  const [location] = useLocation();
  return (
    <header>
      <span className="brand">Kiln</span>
      <nav>
        {sections.map(([path, label]) => (
          <Link
            key={path}
            href={path}
            className={location.startsWith(path) || (path === '/runs' && location === '/') ? 'active' : ''}
          >
            {label}
          </Link>
        ))}
      </nav>
      <span className="who" data-testid="principal">
        {session.principal.name}
        <span className="roles">{session.principal.roles.join(' · ')}</span>
      </span>
      <button type="button" className="quiet" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
