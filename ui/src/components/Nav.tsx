import { t, type Key } from '../lib/i18n';
import { Icon, type IconName } from './Icon';
import type { Navigate, Route } from '../lib/router';

const TABS: { name: 'home' | 'rectifications' | 'history' | 'settings'; key: Key; icon: IconName }[] = [
  { name: 'home', key: 'nav.home', icon: 'home' },
  { name: 'rectifications', key: 'nav.rectifications', icon: 'flag' },
  { name: 'history', key: 'nav.history', icon: 'list' },
  { name: 'settings', key: 'nav.settings', icon: 'sliders' },
];

function tabOf(r: Route): string {
  return r.name === 'inspection' || r.name === 'round' || r.name === 'enroll' ? 'home' : r.name;
}

/** Bottom navigation, within reach of the thumb. */
export function Nav({ route, navigate }: { route: Route; navigate: Navigate }) {
  const active = tabOf(route);
  return (
    <nav class="nav">
      {TABS.map((tab) => (
        <button
          type="button"
          key={tab.name}
          class={'nav-btn' + (active === tab.name ? ' active' : '')}
          data-testid={'nav-' + tab.name}
          aria-current={active === tab.name ? 'page' : undefined}
          onClick={() => navigate({ name: tab.name })}
        >
          <Icon name={tab.icon} size={24} />
          <span>{t(tab.key)}</span>
        </button>
      ))}
    </nav>
  );
}
