import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../lib/app';
import { relativeTime } from '../lib/badge';
import { language, t, type Key } from '../lib/i18n';
import { ipc, type HistoryItem } from '../lib/ipc';

const STATE_KEY: Record<string, Key> = {
  pending: 'history.state.pending',
  synced: 'history.state.synced',
  rejected: 'history.state.rejected',
};

function stateLabel(h: HistoryItem): string {
  if (language() !== 'en' && h.stateZh) return h.stateZh;
  return STATE_KEY[h.state] ? t(STATE_KEY[h.state]) : h.stateZh || h.state;
}

/** What I submitted and whether it reached the township (待同步 / 已同步 / 被退回). */
export function History() {
  const app = useApp();
  const [items, setItems] = useState<HistoryItem[] | null>(null);
  const pending = app.status.sync.pendingRecords;
  useEffect(() => {
    ipc.history().then(setItems, app.showError);
  }, [pending, app.status.sync.lastSuccess]);
  return (
    <div class="screen">
      <h1 data-testid="history-title">{t('history.title')}</h1>
      {items == null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : items.length === 0 ? (
        <p class="muted" data-testid="history-none">
          {t('history.none')}
        </p>
      ) : (
        <ul class="list">
          {items.map((h) => (
            <li key={h.id} class="list-row" data-testid={'history-item-' + h.id} data-state={h.state}>
              <span class="grow">
                <span class="muted">{h.kind === 'round' ? t('history.round') : h.kind === 'inspection' ? t('history.inspection') : h.kind}</span>{' '}
                <strong>{h.label}</strong>
                <span class="muted block">{relativeTime(h.submittedAt, app.now, language())}</span>
                {h.reason && (
                  <span class="bad-text block" data-testid={'history-item-' + h.id + '-reason'}>
                    {t('history.reason', { reason: h.reason })}
                  </span>
                )}
              </span>
              <span
                class={'tag' + (h.state === 'synced' ? ' tag-ok' : h.state === 'rejected' ? ' tag-bad' : ' tag-wait')}
                data-testid={'history-item-' + h.id + '-state'}
              >
                {stateLabel(h)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
