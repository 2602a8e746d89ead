import { badgeWords } from '../lib/badge';
import { language, t } from '../lib/i18n';
import type { SyncBadge as Badge } from '../lib/ipc';

/** Always on screen: what waits to go, when the last sync succeeded, and "sync now". */
export function SyncBadge(props: { badge: Badge; now: Date; busy: boolean; onSync: () => void; onReenroll: () => void }) {
  const b = { ...props.badge, syncing: props.badge.syncing || props.busy };
  const w = badgeWords(b, props.now, language());
  return (
    <section class={'badge tone-' + w.tone} data-testid="sync-badge" data-tone={w.tone} aria-live="polite">
      <div class="badge-row">
        <span class="dot" aria-hidden="true" />
        <div class="badge-text">
          <div class="badge-pending" data-testid="sync-pending">
            {w.pending}
            {w.bytes && (
              <span data-testid="sync-bytes">
                {' · '}
                {w.bytes}
              </span>
            )}
          </div>
          <div class="badge-last" data-testid="sync-last">
            {w.last}
          </div>
        </div>
        <button type="button" class="btn btn-small btn-sync" data-testid="sync-now" disabled={b.syncing} onClick={props.onSync}>
          {b.syncing ? t('sync.syncing') : t('sync.now')}
        </button>
      </div>
      {w.error && (
        <div class="badge-error" data-testid="sync-error">
          {w.error}
        </div>
      )}
      {b.needsReenroll && (
        <div class="badge-error">
          {t('sync.reenroll')}{' '}
          <button type="button" class="btn btn-small btn-light" data-testid="sync-reenroll" onClick={props.onReenroll}>
            {t('sync.reenrollButton')}
          </button>
        </div>
      )}
    </section>
  );
}
