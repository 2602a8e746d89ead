import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorBanner } from './components/ErrorBanner';
import { Nav } from './components/Nav';
import { SyncBadge } from './components/SyncBadge';
import { Ctx, type AppCtx } from './lib/app';
import { setLanguage, t } from './lib/i18n';
import { ipc, toIpcError, type AppStatus, type IpcError, type SyncBadge as Badge } from './lib/ipc';
import { useRouter } from './lib/router';
import { createSyncRunner, SYNC_INTERVAL_MS } from './lib/sync';
import { Enroll } from './screens/Enroll';
import { History } from './screens/History';
import { Home } from './screens/Home';
import { Inspection } from './screens/Inspection';
import { Rectifications } from './screens/Rectifications';
import { Round } from './screens/Round';
import { SettingsScreen } from './screens/Settings';

export function App() {
  const [status, setStatusRaw] = useState<AppStatus | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const [syncBusy, setSyncBusy] = useState(false);
  const [now, setNow] = useState(() => new Date());
  const [route, navigate] = useRouter();
  const statusRef = useRef<AppStatus | null>(null);

  const setStatus = useCallback((s: AppStatus) => {
    statusRef.current = s;
    setLanguage(s.settings.language);
    setStatusRaw(s);
  }, []);

  const showError = useCallback((e: unknown) => setError(toIpcError(e)), []);
  const clearError = useCallback(() => setError(null), []);

  const load = useCallback(() => {
    setLoadFailed(false);
    ipc.appStatus().then(setStatus, (e) => {
      setLoadFailed(true);
      showError(e);
    });
  }, [setStatus, showError]);

  useEffect(load, [load]);

  // One sync at a time; later calls join the running one.
  const runner = useMemo(
    () =>
      createSyncRunner(async (): Promise<Badge | null> => {
        const s = statusRef.current;
        if (!s || !s.enrolled) return null;
        setSyncBusy(true);
        try {
          const badge = await ipc.syncNow();
          const cur = statusRef.current;
          if (cur) setStatus({ ...cur, sync: badge });
          return badge;
        } finally {
          setSyncBusy(false);
        }
      }),
    [setStatus],
  );
  const sync = useCallback(
    () =>
      runner.trigger().catch(() => {
        // Background: a failure shows on the badge at the next status; nothing to interrupt.
        return null;
      }),
    [runner],
  );
  const syncByHand = useCallback(() => {
    runner.trigger().catch(showError);
  }, [runner, showError]);

  const enrolled = !!status && status.enrolled;
  useEffect(() => {
    if (!enrolled) return;
    sync();
    const id = setInterval(sync, SYNC_INTERVAL_MS);
    const onVisible = () => {
      if (document.visibilityState === 'visible') sync();
    };
    document.addEventListener('visibilitychange', onVisible);
    addEventListener('online', sync);
    return () => {
      clearInterval(id);
      document.removeEventListener('visibilitychange', onVisible);
      removeEventListener('online', sync);
    };
  }, [enrolled, sync]);

  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), 30000);
    return () => clearInterval(id);
  }, []);

  if (!status) {
    return (
      <div class="app">
        <header class="top">
          <ErrorBanner error={error} onDismiss={clearError} />
        </header>
        <main class="main center">
          {loadFailed ? (
            <button type="button" class="btn btn-primary" data-testid="app-retry" onClick={load}>
              {t('app.retry')}
            </button>
          ) : (
            <p class="muted" data-testid="app-loading">
              {t('app.loading')}
            </p>
          )}
        </main>
      </div>
    );
  }

  const ctx: AppCtx = {
    status,
    setStatus,
    settings: status.settings,
    route,
    navigate,
    showError,
    clearError,
    sync,
    now,
  };

  if (!status.enrolled || route.name === 'enroll') {
    return (
      <Ctx.Provider value={ctx}>
        <div class="app">
          <header class="top">
            <ErrorBanner error={error} onDismiss={clearError} />
          </header>
          <main class="main">
            <Enroll />
          </main>
        </div>
      </Ctx.Provider>
    );
  }

  let screen;
  switch (route.name) {
    case 'inspection':
      screen = <Inspection key={'i' + route.householdId} route={route} />;
      break;
    case 'round':
      screen = <Round key={'r' + route.roundId} route={route} />;
      break;
    case 'rectifications':
      screen = <Rectifications />;
      break;
    case 'history':
      screen = <History />;
      break;
    case 'settings':
      screen = <SettingsScreen />;
      break;
    default:
      screen = <Home />;
  }

  return (
    <Ctx.Provider value={ctx}>
      <div class="app">
        <header class="top">
          <SyncBadge
            badge={status.sync}
            now={now}
            busy={syncBusy}
            onSync={syncByHand}
            onReenroll={() => navigate({ name: 'enroll' })}
          />
          <ErrorBanner error={error} onDismiss={clearError} />
        </header>
        <main class="main">{screen}</main>
        <Nav route={route} navigate={navigate} />
      </div>
    </Ctx.Provider>
  );
}
