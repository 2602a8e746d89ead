import { useEffect, useState } from 'preact/hooks';
import { PhotoInput, Thumb } from '../components/Photo';
import { useApp } from '../lib/app';
import { pick, t, type Key } from '../lib/i18n';
import { getPosition, ipc, type RectificationItem } from '../lib/ipc';
import { isOpen, localDate, sortRectifications, type RectRow } from '../lib/rectify';

const STATE_KEY: Record<string, Key> = {
  open: 'rect.state.open',
  submitted: 'rect.state.submitted',
  verified: 'rect.state.verified',
  rejected: 'rect.state.rejected',
};

/** Orders assigned to me: overdue in red, earliest due first; closed with an "after" photo. */
export function Rectifications() {
  const app = useApp();
  const [items, setItems] = useState<RectificationItem[] | null>(null);
  useEffect(() => {
    ipc.myRectifications().then(setItems, app.showError);
  }, []);

  const replace = (r: RectificationItem) => setItems((cur) => (cur ? cur.map((x) => (x.id === r.id ? r : x)) : [r]));

  const today = localDate(app.now);
  const rows = items ? sortRectifications(items, today) : null;
  return (
    <div class="screen">
      <h1 data-testid="rect-title">{t('rect.title')}</h1>
      {rows == null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="muted" data-testid="rect-none">
          {t('rect.none')}
        </p>
      ) : (
        rows.map((row) => <RectCard key={row.item.id} row={row} onClosed={replace} />)
      )}
    </div>
  );
}

function dueWords(row: RectRow): string {
  if (row.overdue) return t('rect.overdue', { n: Math.max(1, -row.daysLeft) });
  if (row.daysLeft === 0) return t('rect.dueToday');
  return t('rect.daysLeft', { n: row.daysLeft });
}

function RectCard({ row, onClosed }: { row: RectRow; onClosed: (r: RectificationItem) => void }) {
  const app = useApp();
  const [note, setNote] = useState('');
  const r = row.item;
  const pre = 'rect-' + r.id;
  const close = async (b64: string) => {
    const position = await getPosition(app.settings);
    const done = await ipc.closeRectification(r.id, b64, note.trim() || null, position);
    onClosed(done);
    app.sync();
  };
  return (
    <section class={'card' + (row.overdue ? ' card-bad' : '')} data-testid={pre} data-overdue={row.overdue ? 'true' : 'false'}>
      <div class="row">
        <strong class="grow">{r.subjectLabel}</strong>
        <span class={'tag' + (row.overdue ? ' tag-bad' : isOpen(r) ? '' : ' tag-ok')} data-testid={pre + '-state'}>
          {STATE_KEY[r.state] ? t(STATE_KEY[r.state]) : r.state}
        </span>
      </div>
      <p>{pick(r.itemLabelZh, r.itemLabelEn)}</p>
      <p class={row.overdue ? 'bad-text' : 'muted'} data-testid={pre + '-due'}>
        {t('rect.due', { due: r.due })}
        {isOpen(r) ? ' · ' + dueWords(row) : ''}
      </p>
      {isOpen(r) ? (
        <>
          <label class="field">
            <span>{t('rect.note')}</span>
            <textarea rows={2} data-testid={pre + '-note'} value={note} onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)} />
          </label>
          <div class="row wrap">
            {r.beforePhotos.length > 0 && (
              <figure class="before">
                <Thumb sha={r.beforePhotos[0]} label={t('rect.before')} />
                <figcaption>{t('rect.before')}</figcaption>
              </figure>
            )}
            <PhotoInput testid={pre + '-photo'} label={t('rect.after')} primary onPhoto={close} />
          </div>
        </>
      ) : (
        <div class="row wrap">
          {r.beforePhotos.slice(0, 1).map((h) => (
            <Thumb key={h} sha={h} label={t('rect.before')} />
          ))}
          {r.afterPhotos.map((h) => (
            <Thumb key={h} sha={h} />
          ))}
        </div>
      )}
    </section>
  );
}
