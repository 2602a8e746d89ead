// Background sync: every minute while the app is open and after every submit. A call made
// while one is running joins it instead of starting another.

export interface SyncRunner<T> {
  /** Starts a sync, or returns the one already running. */
  trigger(): Promise<T>;
  running(): boolean;
}

export function createSyncRunner<T>(run: () => Promise<T>): SyncRunner<T> {
  let inflight: Promise<T> | null = null;
  return {
    trigger() {
      if (inflight) return inflight;
      const p = run();
      inflight = p;
      const clear = () => {
        if (inflight === p) inflight = null;
      };
      p.then(clear, clear);
      return p;
    },
    running: () => inflight !== null,
  };
}

export const SYNC_INTERVAL_MS = 60000;
export const TRACE_INTERVAL_MS = 15000;
