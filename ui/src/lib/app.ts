// What every screen can reach: the status, errors, sync, navigation.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AppStatus, IpcError, Settings, SyncBadge } from './ipc';
import type { Navigate, Route } from './router';

export interface AppCtx {
  status: AppStatus;
  setStatus: (s: AppStatus) => void;
  settings: Settings;
  route: Route;
  navigate: Navigate;
  /** Shows the red banner with the message as given. */
  showError: (e: unknown) => void;
  clearError: () => void;
  /** Starts a background sync (joins one already running). */
  sync: () => Promise<SyncBadge | null>;
  /** Now, refreshed every half minute (for "5分钟前"). */
  now: Date;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('no app context');
  return c;
}

export type { IpcError };
