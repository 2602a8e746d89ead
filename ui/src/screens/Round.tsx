import { useEffect, useRef, useState } from 'preact/hooks';
import { PhotoInput, Thumb } from '../components/Photo';
import { useApp } from '../lib/app';
import { relativeTime } from '../lib/badge';
import { language, pick, t, type Key } from '../lib/i18n';
import { ipc, locateNow, type CheckpointState, type CheckpointView, type ProblemKind, type RoundView } from '../lib/ipc';
import type { Located } from '../lib/position';
import type { Route } from '../lib/router';
import { TRACE_INTERVAL_MS } from '../lib/sync';

type RoundRoute = Extract<Route, { name: 'round' }>;

const STATES: { state: CheckpointState; key: Key }[] = [
  { state: 'cleared', key: 'round.cleared' },
  { state: 'overflowing', key: 'round.overflowing' },
  { state: 'damaged', key: 'round.damaged' },
];

/** Checkpoints done / total. */
export function roundProgress(v: RoundView): { done: number; total: number } {
  return { done: v.checkpoints.filter((c) => c.state != null).length, total: v.checkpoints.length };
}

export function Round({ route }: { route: RoundRoute }) {
  const app = useApp();
  const [view, setView] = useState<RoundView | null>(route.view ?? null);
  const [loc, setLoc] = useState<Located | null>(null);
  const [pending, setPending] = useState<Record<string, CheckpointState>>({});
  const [confirm, setConfirm] = useState(false);
  const [finishing, setFinishing] = useState(false);
  const [reporting, setReporting] = useState(false);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const locRef = useRef<Located | null>(null);

  function run<T>(fn: () => Promise<T>): Promise<T> {
    const next = queue.current.then(fn, fn);
    queue.current = next.catch(() => undefined);
    return next;
  }

  // The route's view may be stale (back button) or missing (restart): read the open round
  // afresh; a round no longer open was finished, so go home.
  useEffect(() => {
    if (view?.submitted) return;
    run(() => ipc.openRounds()).then((rounds) => {
      const r = rounds.find((x) => x.id === route.roundId);
      if (r) setView(r);
      else app.navigate({ name: 'home' }, true);
    }, app.showError);
  }, []);

  // The trace: a position every 15 s while this screen is open.
  const roundId = view && !view.submitted ? view.id : null;
  useEffect(() => {
    if (!roundId) return;
    let live = true;
    const tick = async () => {
      const l = await locateNow(app.settings);
      if (!live) return;
      locRef.current = l;
      setLoc(l);
      const p = l.position;
      if (p) {
        run(() => ipc.recordPosition(roundId, p)).then(
          (v) => live && setView(v),
          () => undefined, // a lost trace point is not worth a banner
        );
      }
    };
    tick();
    const id = setInterval(tick, TRACE_INTERVAL_MS);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [roundId]);

  if (!view) {
    return (
      <div class="screen">
        <p class="muted">{t('common.loading')}</p>
      </div>
    );
  }

  if (view.submitted) return <Summary view={view} />;

  const id = view.id;
  const position = () => locRef.current?.position ?? null;

  const setState = (cp: CheckpointView, state: CheckpointState) => {
    setPending((cur) => ({ ...cur, [cp.facilityId]: state }));
    run(() => ipc.recordCheckpoint(id, cp.facilityId, state, null, position()))
      .then(setView, app.showError)
      .then(() =>
        setPending((cur) => {
          const next = { ...cur };
          delete next[cp.facilityId];
          return next;
        }),
      );
  };

  const photo = (cp: CheckpointView, b64: string) => {
    const state = pending[cp.facilityId] ?? cp.state;
    if (!state) return Promise.resolve();
    return run(() => ipc.recordCheckpoint(id, cp.facilityId, state, b64, position())).then(setView);
  };

  const finish = async () => {
    setFinishing(true);
    app.clearError();
    try {
      const v = await run(() => ipc.finishRound(id));
      setView(v);
      app.navigate({ name: 'round', roundId: v.id, view: v }, true);
      app.sync();
    } catch (e) {
      app.showError(e);
    } finally {
      setFinishing(false);
      setConfirm(false);
    }
  };

  const { done, total } = roundProgress(view);
  const gps =
    loc == null
      ? null
      : loc.source === 'gps' && loc.position
        ? t('round.gps', { n: Math.round(loc.position.accuracyM) })
        : loc.source === 'fixed'
          ? t('round.gpsFixed')
          : t('round.gpsNone');

  return (
    <div class="screen">
      <h1 data-testid="round-title">{view.zoneName}</h1>
      <div class="scorebar" data-testid="round-status">
        <strong data-testid="round-progress">{t('round.checkpointsDone', { done, total })}</strong>
        <span class="muted" data-testid="round-trace">
          {t('round.trace', { n: view.tracePoints })} · {t('round.coverage', { n: view.coveragePct })}
        </span>
      </div>
      <p class="muted">
        {t('round.startedAt', { when: relativeTime(view.startedAt, app.now, language()) })}
        {gps && (
          <span class={loc?.source === 'none' ? ' warn-text' : ''} data-testid="round-gps">
            {' · '}
            {gps}
          </span>
        )}
      </p>

      {view.checkpoints.map((cp) => {
        const state = pending[cp.facilityId] ?? cp.state;
        const pre = 'checkpoint-' + cp.facilityId;
        return (
          <div class={'item' + (state ? ' answered st-' + state : '')} key={cp.facilityId} data-testid={pre} data-state={state ?? ''}>
            <div class="item-head">
              <span class="item-label">
                <strong class="plate">{cp.number}</strong> {pick(cp.kindZh, cp.kindEn)}
              </span>
            </div>
            <div class="seg seg-3">
              {STATES.map((s) => (
                <button
                  type="button"
                  key={s.state}
                  class={'btn seg-btn seg-' + s.state + (state === s.state ? ' on' : '')}
                  aria-pressed={state === s.state}
                  data-testid={pre + '-' + s.state}
                  onClick={() => setState(cp, s.state)}
                >
                  {t(s.key)}
                </button>
              ))}
            </div>
            <div class="row wrap">
              <PhotoInput
                testid={pre + '-photo'}
                label={state ? t('round.photo') : t('round.photoFirst')}
                disabled={!state}
                onPhoto={(b64) => photo(cp, b64)}
              />
              {cp.photos.map((h) => (
                <Thumb key={h} sha={h} />
              ))}
            </div>
          </div>
        );
      })}

      {view.problems.length > 0 && (
        <section class="card">
          <h2>{t('round.problems')}</h2>
          <ul class="plain" data-testid="round-problems">
            {view.problems.map((p, k) => (
              <li key={k} class="row">
                {p.photos.slice(0, 1).map((h) => (
                  <Thumb key={h} sha={h} />
                ))}
                <span class="grow">
                  {pick(p.labelZh, p.labelEn)}
                  {p.note ? <span class="muted block">{p.note}</span> : null}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {reporting ? (
        <ProblemForm
          onCancel={() => setReporting(false)}
          onReport={(code, note, b64) =>
            run(() => ipc.reportProblem(id, code, note, b64, position())).then((v) => {
              setView(v);
              setReporting(false);
            })
          }
        />
      ) : (
        <button type="button" class="btn btn-block btn-warn" data-testid="problem-add" onClick={() => setReporting(true)}>
          {t('round.problem')}
        </button>
      )}

      <div class="actionbar">
        {confirm ? (
          <div class="confirm">
            {done < total && <p class="warn-text">{t('round.finishLeft', { n: total - done })}</p>}
            <div class="two">
              <button type="button" class="btn" data-testid="round-finish-cancel" onClick={() => setConfirm(false)}>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                class="btn btn-primary"
                data-testid="round-finish-confirm"
                disabled={finishing}
                onClick={finish}
              >
                {finishing ? t('common.saving') : t('round.finishConfirm')}
              </button>
            </div>
          </div>
        ) : (
          <button type="button" class="btn btn-primary btn-block" data-testid="round-finish" onClick={() => setConfirm(true)}>
            {t('round.finish')}
          </button>
        )}
      </div>
    </div>
  );
}

function ProblemForm(props: {
  onCancel: () => void;
  onReport: (code: string, note: string | null, b64: string) => Promise<unknown>;
}) {
  const app = useApp();
  const [kinds, setKinds] = useState<ProblemKind[] | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [note, setNote] = useState('');
  useEffect(() => {
    ipc.problemKinds().then(setKinds, app.showError);
  }, []);
  return (
    <section class="card card-warn" data-testid="problem-form">
      <h2>{t('round.problemKind')}</h2>
      {kinds == null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : (
        <div class="choices">
          {kinds.map((k) => (
            <button
              type="button"
              key={k.code}
              class={'btn choice' + (code === k.code ? ' on' : '')}
              aria-pressed={code === k.code}
              data-testid={'problem-kind-' + k.code}
              onClick={() => setCode(k.code)}
            >
              {pick(k.labelZh, k.labelEn)}
            </button>
          ))}
        </div>
      )}
      <label class="field">
        <span>{t('round.problemNote')}</span>
        <textarea
          rows={2}
          data-testid="problem-note"
          value={note}
          onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </label>
      <div class="two">
        <button type="button" class="btn" data-testid="problem-cancel" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <PhotoInput
          testid="problem-photo"
          label={t('round.problemPhoto')}
          primary
          disabled={!code}
          onPhoto={(b64) => (code ? props.onReport(code, note.trim() || null, b64) : Promise.resolve())}
        />
      </div>
    </section>
  );
}

function Summary({ view }: { view: RoundView }) {
  const app = useApp();
  const { done, total } = roundProgress(view);
  return (
    <div class="screen">
      <h1>{view.zoneName}</h1>
      <section class="card card-ok" data-testid="round-summary">
        <h2>{t('round.done')}</h2>
        <p class="big" data-testid="round-summary-coverage">
          {t('round.coverage', { n: view.coveragePct })}
        </p>
        <p class="big" data-testid="round-summary-checkpoints">
          {t('round.checkpointsDone', { done, total })}
        </p>
        <p>{t('round.problemsCount', { n: view.problems.length })}</p>
      </section>
      <div class="actionbar">
        <button type="button" class="btn btn-primary btn-block" data-testid="round-done" onClick={() => app.navigate({ name: 'home' })}>
          {t('round.back')}
        </button>
      </div>
    </div>
  );
}
