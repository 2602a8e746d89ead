// A tiny state router on the History API: each screen is a history entry (so the phone's back
// button works), the route object lives in history.state, and the hash names the screen.
import { useEffect, useState } from 'preact/hooks';
import type { InspectionView, RoundView } from './ipc';

export type Route =
  | { name: 'home' }
  | { name: 'enroll' }
  | {
      name: 'inspection';
      householdId: string;
      view?: InspectionView;
      /** The inspection a reviewer sent back that this draft corrects and replaces. */
      correctionOf?: string;
    }
  | { name: 'round'; roundId: string; view?: RoundView }
  | { name: 'rectifications' }
  | { name: 'history' }
  | { name: 'settings' };

export type Navigate = (r: Route, replace?: boolean) => void;

function current(): Route {
  const s = typeof history !== 'undefined' ? (history.state as Route | null) : null;
  return s && typeof s === 'object' && 'name' in s ? s : { name: 'home' };
}

function hashOf(r: Route): string {
  switch (r.name) {
    case 'inspection':
      return '#/inspection/' + r.householdId;
    case 'round':
      return '#/round/' + r.roundId;
    default:
      return '#/' + r.name;
  }
}

export function useRouter(): [Route, Navigate] {
  const [route, setRoute] = useState<Route>(current);
  useEffect(() => {
    const onPop = () => setRoute(current());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate: Navigate = (r, replace) => {
    try {
      if (replace) history.replaceState(r, '', hashOf(r));
      else history.pushState(r, '', hashOf(r));
    } catch {
      // history refused (too big a state): the screen still changes
    }
    setRoute(r);
    if (typeof scrollTo === 'function') {
      try {
        scrollTo(0, 0);
      } catch {
        // not in a browser
      }
    }
  };
  return [route, navigate];
}
