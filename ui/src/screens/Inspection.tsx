import { useEffect, useRef, useState } from 'preact/hooks';
import { PhotoInput, Thumb } from '../components/Photo';
import { Stepper } from '../components/Stepper';
import { useApp } from '../lib/app';
import { amountText, bySection, clampCount, failedItems, itemNeeds, outcomesFor, submitState } from '../lib/checklist';
import { pick, t, type Key } from '../lib/i18n';
import {
  getPosition,
  ipc,
  type ChecklistItem,
  type InspectionView,
  type Outcome,
  type Position,
  type RectificationItem,
} from '../lib/ipc';
import { defaultDue, localDate } from '../lib/rectify';
import type { Route } from '../lib/router';

type InspRoute = Extract<Route, { name: 'inspection' }>;

const OUTCOME_KEY: Record<Outcome, Key> = { pass: 'insp.pass', fail: 'insp.fail', not_applicable: 'insp.na' };
const OUTCOME_ID: Record<Outcome, string> = { pass: 'pass', fail: 'fail', not_applicable: 'na' };
const NOTE_DEBOUNCE_MS = 700;
const START_FIX_WAIT_MS = 4000;

function withCap<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), ms))]);
}

interface Pending {
  outcome?: Outcome;
  count?: number;
}

export function Inspection({ route }: { route: InspRoute }) {
  const app = useApp();
  const [view, setView] = useState<InspectionView | null>(route.view ?? null);
  const [pending, setPending] = useState<Record<string, Pending>>({});
  const [submitting, setSubmitting] = useState(false);
  const [issued, setIssued] = useState<Record<string, RectificationItem>>({});
  const [dues, setDues] = useState<Record<string, string>>({});
  const [issuing, setIssuing] = useState<string | null>(null);
  const [, setTyped] = useState(0);
  const queue = useRef<Promise<unknown>>(Promise.resolve());
  const notes = useRef<Record<string, string>>({});
  const timers = useRef<Record<string, ReturnType<typeof setTimeout>>>({});
  const pos = useRef<Position | null>(null);

  // Open (or resume) the household's inspection, with the position when one comes quickly.
  useEffect(() => {
    if (view?.submitted) return;
    let live = true;
    (async () => {
      const position = await withCap(getPosition(app.settings), START_FIX_WAIT_MS, null);
      pos.current = position;
      try {
        // A correction resumes its own draft (the household may also have an ordinary one).
        const v = route.correctionOf
          ? await ipc.startCorrection(route.correctionOf)
          : await ipc.startInspection(route.householdId, position);
        if (live) setView(v);
      } catch (e) {
        if (live) app.showError(e);
      }
    })();
    const refresh = setInterval(() => {
      getPosition(app.settings).then((p) => {
        if (p) pos.current = p;
      });
    }, 30000);
    return () => {
      live = false;
      clearInterval(refresh);
      Object.keys(timers.current).forEach((k) => clearTimeout(timers.current[k]));
    };
  }, []);

  /** Commands for this inspection run one after another, in tap order. */
  function run<T>(fn: () => Promise<T>): Promise<T> {
    const next = queue.current.then(fn, fn);
    queue.current = next.catch(() => undefined);
    return next;
  }

  function apply(v: InspectionView) {
    setView(v);
  }

  function noteOf(item: ChecklistItem): string | null {
    const n = item.code in notes.current ? notes.current[item.code] : item.note;
    return n && n.trim() ? n : null;
  }

  function mark(code: string, p: Pending | null) {
    setPending((cur) => {
      const next = { ...cur };
      if (p) next[code] = { ...cur[code], ...p };
      else delete next[code];
      return next;
    });
  }

  function save(item: ChecklistItem, outcome: Outcome, count: number): Promise<void> {
    if (!view) return Promise.resolve();
    const id = view.id;
    clearTimeout(timers.current[item.code]);
    delete timers.current[item.code];
    const note = noteOf(item);
    return run(() => ipc.answerItem(id, item.code, outcome, count, note)).then(apply, app.showError);
  }

  const answer = (item: ChecklistItem, outcome: Outcome) => {
    mark(item.code, { outcome });
    const count = outcome === 'fail' ? clampCount(pending[item.code]?.count ?? item.count ?? 1) : 1;
    save(item, outcome, count).then(() => mark(item.code, null));
  };

  const setCount = (item: ChecklistItem, n: number) => {
    const count = clampCount(n);
    mark(item.code, { count });
    save(item, 'fail', count).then(() => mark(item.code, null));
  };

  const onNote = (item: ChecklistItem, text: string) => {
    notes.current[item.code] = text;
    setTyped((n) => n + 1);
    clearTimeout(timers.current[item.code]);
    timers.current[item.code] = setTimeout(() => flushNote(item.code), NOTE_DEBOUNCE_MS);
  };

  function flushNote(code: string): Promise<void> {
    clearTimeout(timers.current[code]);
    delete timers.current[code];
    if (!view || !(code in notes.current)) return Promise.resolve();
    const id = view.id;
    const text = notes.current[code];
    return run(() => {
      // The latest answer for this item, from the newest view.
      const item = latest.current?.items.find((i) => i.code === code);
      const outcome = item?.outcome ?? 'fail';
      const count = item?.count ?? 1;
      return ipc.answerItem(id, code, outcome, count, text.trim() ? text : null);
    }).then((v) => {
      if (notes.current[code] === text) delete notes.current[code];
      apply(v);
    }, app.showError);
  }

  const latest = useRef<InspectionView | null>(view);
  latest.current = view;

  const photo = (item: ChecklistItem, b64: string) => {
    if (!view) return Promise.resolve();
    const id = view.id;
    return run(() => ipc.attachItemPhoto(id, item.code, b64, pos.current)).then(apply);
  };

  const restPass = () => {
    if (!view) return;
    for (const item of view.items) {
      if (item.outcome == null && !pending[item.code]?.outcome) answer(item, 'pass');
    }
  };

  const submit = async () => {
    if (!view) return;
    const id = view.id;
    setSubmitting(true);
    app.clearError();
    try {
      await Promise.all(Object.keys(notes.current).map(flushNote));
      const v = await run(() => ipc.submitInspection(id));
      setView(v);
      app.navigate({ ...route, view: v }, true);
      app.sync();
    } catch (e) {
      app.showError(e);
    } finally {
      setSubmitting(false);
    }
  };

  const issue = async (item: ChecklistItem) => {
    if (!view) return;
    const due = dues[item.code] ?? defaultDue(app.now);
    setIssuing(item.code);
    try {
      const r = await ipc.issueRectification(view.id, item.code, due);
      setIssued((cur) => ({ ...cur, [item.code]: r }));
      app.sync();
    } catch (e) {
      app.showError(e);
    } finally {
      setIssuing(null);
    }
  };

  if (!view) {
    return (
      <div class="screen">
        <p class="muted" data-testid="inspection-loading">
          {t('common.loading')}
        </p>
      </div>
    );
  }

  // The view as the person sees it: their last taps and typing before the phone answered.
  const shownItems = view.items.map((i) => {
    const p = pending[i.code];
    const note = i.code in notes.current ? notes.current[i.code] : i.note;
    return p || note !== i.note ? { ...i, outcome: p?.outcome ?? i.outcome, count: p?.count ?? i.count, note } : i;
  });
  const state = submitState({ ...view, items: shownItems });
  const labelOf = (code: string) => {
    const i = view.items.find((x) => x.code === code);
    return i ? pick(i.labelZh, i.labelEn) : code;
  };
  const answered = view.items.filter((i) => i.outcome != null).length;

  return (
    <div class="screen">
      <h1 data-testid="inspection-title">{view.subjectLabel}</h1>
      <p class="muted" data-testid="inspection-template">{pick(view.templateName, view.templateNameEn)}</p>
      {route.correctionOf && (
        <p class="correction" data-testid="inspection-correction">
          {t('insp.correction')}
        </p>
      )}

      {!view.submitted && (
        <p class="muted" data-testid="inspection-progress">
          {t('insp.progress', { done: answered, total: view.items.length })}
        </p>
      )}

      {view.submitted ? (
        <Submitted
          view={view}
          dues={dues}
          setDue={(code, d) => setDues((cur) => ({ ...cur, [code]: d }))}
          issued={issued}
          issuing={issuing}
          onIssue={issue}
          today={localDate(app.now)}
          defaultDue={defaultDue(app.now)}
        />
      ) : (
        <>
          {bySection(shownItems).map((sec) => (
            <section key={sec.section}>
              {sec.section && <h2>{pick(sec.section, sec.items[0].sectionEn)}</h2>}
              {sec.items.map((item) => (
                <ItemCard
                  key={item.code}
                  item={item}
                  unit={view.unit}
                  busy={!!pending[item.code]}
                  onAnswer={(o) => answer(item, o)}
                  onCount={(n) => setCount(item, n)}
                  onNote={(s) => onNote(item, s)}
                  onNoteDone={() => flushNote(item.code)}
                  onPhoto={(b64) => photo(item, b64)}
                />
              ))}
            </section>
          ))}

          {state.unanswered.length > 0 && (
            <button type="button" class="btn btn-block" data-testid="inspection-rest-pass" onClick={restPass}>
              {t('insp.restPass')} ({state.unanswered.length})
            </button>
          )}

          <section class="card" data-testid="inspection-summary">
            <h2>{t('insp.summary')}</h2>
            <Deductions view={view} />
            {state.allowed ? (
              <p class="ok-text" data-testid="inspection-ready">
                {t('insp.ready')}
              </p>
            ) : (
              <div data-testid="inspection-missing">
                <h3>{t('insp.missing')}</h3>
                <ul class="plain">
                  {state.unanswered.length > 0 && <li>{t('insp.unanswered', { n: state.unanswered.length })}</li>}
                  {state.needPhoto.map((c) => (
                    <li key={'p' + c} class="bad-text">
                      {labelOf(c)}：{t('insp.needPhoto')}
                    </li>
                  ))}
                  {state.needNote.map((c) => (
                    <li key={'n' + c} class="bad-text">
                      {labelOf(c)}：{t('insp.needNote')}
                    </li>
                  ))}
                  {state.blocking.map((i, k) => (
                    <li key={'b' + k} class="bad-text" data-testid="inspection-blocking">
                      {pick(i.messageZh, i.messageEn)}
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {view.issues
              .filter((i) => !i.blocking)
              .map((i, k) => (
                <p key={'w' + k} class="warn-text">
                  {pick(i.messageZh, i.messageEn)}
                </p>
              ))}
          </section>
        </>
      )}

      <div class="actionbar submitbar">
        <div class="scorebox" data-testid="inspection-score" aria-live="polite">
          {view.unit === 'yuan' ? (
            <strong class="score">{amountText(view.score, view.unit)}</strong>
          ) : (
            <>
              <strong class="score">{view.score}</strong>
              <span class="muted">/ {amountText(view.full, view.unit)}</span>
            </>
          )}
        </div>
        {view.submitted ? (
          <button
            type="button"
            class="btn btn-primary"
            data-testid="inspection-done"
            onClick={() => app.navigate({ name: 'home' })}
          >
            {t('insp.done')}
          </button>
        ) : (
          <button
            type="button"
            class="btn btn-primary"
            data-testid="inspection-submit"
            disabled={!state.allowed || submitting || Object.keys(pending).length > 0}
            onClick={submit}
          >
            {submitting ? t('insp.submitting') : t('insp.submit')}
          </button>
        )}
      </div>
    </div>
  );
}

function Deductions({ view }: { view: InspectionView }) {
  if (view.deductions.length === 0) return <p class="muted">{t('insp.noDeductions')}</p>;
  return (
    <ul class="plain" data-testid="inspection-deductions">
      {view.deductions.map((d) => (
        <li key={d.code} class="row" data-testid={'deduction-' + d.code}>
          <span class="grow">
            {pick(d.labelZh, d.labelEn)}
            {d.units > 1 ? ' × ' + d.units : ''}
          </span>
          <strong class="bad-text">−{amountText(d.amount, view.unit)}</strong>
        </li>
      ))}
    </ul>
  );
}

function ItemCard(props: {
  item: ChecklistItem;
  unit: InspectionView['unit'];
  busy: boolean;
  onAnswer: (o: Outcome) => void;
  onCount: (n: number) => void;
  onNote: (s: string) => void;
  onNoteDone: () => void;
  onPhoto: (b64: string) => Promise<unknown>;
}) {
  const { item } = props;
  const needs = itemNeeds(item);
  const id = 'item-' + item.code;
  return (
    <div class={'item' + (item.outcome ? ' answered out-' + item.outcome : '')} data-testid={id} data-outcome={item.outcome ?? ''}>
      <div class="item-head">
        <span class="item-label">{pick(item.labelZh, item.labelEn)}</span>
        <span class="item-ded">
          {t(item.perUnit ? 'insp.perUnit' : 'insp.deduct', { amount: amountText(item.deduction, props.unit) })}
        </span>
      </div>
      <div class={'seg seg-' + outcomesFor(item).length}>
        {outcomesFor(item).map((o) => (
          <button
            type="button"
            key={o}
            class={'btn seg-btn seg-' + OUTCOME_ID[o] + (item.outcome === o ? ' on' : '')}
            aria-pressed={item.outcome === o}
            data-testid={id + '-' + OUTCOME_ID[o]}
            onClick={() => item.outcome !== o && props.onAnswer(o)}
          >
            {t(OUTCOME_KEY[o])}
          </button>
        ))}
      </div>
      {item.outcome === 'fail' && (
        <div class="item-fail">
          {item.perUnit && (
            <div class="row">
              <span class="grow">{t('insp.count')}</span>
              <Stepper testid={id + '-count'} value={item.count || 1} onChange={props.onCount} />
            </div>
          )}
          <div class="row wrap">
            <PhotoInput
              testid={id + '-photo'}
              label={item.photos.length ? t('insp.photoAgain') : t('insp.photo')}
              onPhoto={props.onPhoto}
            />
            {item.photos.map((h) => (
              <Thumb key={h} sha={h} />
            ))}
          </div>
          <NoteField
            testid={id + '-note'}
            initial={item.note ?? ''}
            required={item.noteOnFail}
            onInput={props.onNote}
            onDone={props.onNoteDone}
          />
          {(needs.photo || needs.note) && (
            <p class="bad-text" data-testid={id + '-needs'}>
              {[needs.photo ? t('insp.needPhoto') : '', needs.note ? t('insp.needNote') : ''].filter(Boolean).join(' · ')}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

/** Keeps what is typed on screen; saved a moment after typing stops and when leaving the field. */
function NoteField(props: { testid: string; initial: string; required: boolean; onInput: (s: string) => void; onDone: () => void }) {
  const [text, setText] = useState(props.initial);
  return (
    <textarea
      class="note"
      rows={2}
      data-testid={props.testid}
      value={text}
      placeholder={props.required ? t('insp.notePlaceholder') : t('insp.notePlaceholderOptional')}
      onInput={(e) => {
        const s = (e.currentTarget as HTMLTextAreaElement).value;
        setText(s);
        props.onInput(s);
      }}
      onBlur={props.onDone}
    />
  );
}

function Submitted(props: {
  view: InspectionView;
  dues: Record<string, string>;
  setDue: (code: string, due: string) => void;
  issued: Record<string, RectificationItem>;
  issuing: string | null;
  onIssue: (item: ChecklistItem) => void;
  today: string;
  defaultDue: string;
}) {
  const failed = failedItems(props.view);
  return (
    <>
      <section class="card card-ok" data-testid="inspection-submitted">
        <p>{t('insp.submitted')}</p>
        <Deductions view={props.view} />
      </section>
      {failed.length > 0 && (
        <section>
          <h2>{t('insp.rectifyTitle')}</h2>
          {failed.map((item) => {
            const done = props.issued[item.code];
            return (
              <div class="card" key={item.code} data-testid={'rectify-' + item.code + '-card'}>
                <strong>{pick(item.labelZh, item.labelEn)}</strong>
                {done ? (
                  <p class="ok-text" data-testid={'rectify-' + item.code + '-done'}>
                    {t('insp.rectified', { due: done.due })}
                  </p>
                ) : (
                  <div class="row wrap">
                    <label class="field grow">
                      <span>{t('insp.rectifyDue')}</span>
                      <input
                        type="date"
                        data-testid={'rectify-' + item.code + '-due'}
                        min={props.today}
                        value={props.dues[item.code] ?? props.defaultDue}
                        onInput={(e) => props.setDue(item.code, (e.currentTarget as HTMLInputElement).value)}
                      />
                    </label>
                    <button
                      type="button"
                      class="btn btn-primary"
                      data-testid={'rectify-' + item.code}
                      disabled={props.issuing !== null}
                      onClick={() => props.onIssue(item)}
                    >
                      {t('insp.rectify')}
                    </button>
                  </div>
                )}
              </div>
            );
          })}
        </section>
      )}
    </>
  );
}
