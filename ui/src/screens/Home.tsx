import { useEffect, useRef, useState } from 'preact/hooks';
import { PhotoInput, Thumb } from '../components/Photo';
import { useApp } from '../lib/app';
import { relativeTime } from '../lib/badge';
import { language, pick, t } from '../lib/i18n';
import {
  ipc,
  locateNow,
  type HouseholdItem,
  type InspectionView,
  type Position,
  type ReviewTask,
  type RoundView,
  type ZoneItem,
} from '../lib/ipc';
import { arrangeHouseholds, groupsOf, plainDrafts, sampledTodoCount } from '../lib/households';
import type { PositionSource } from '../lib/position';

export function Home() {
  const app = useApp();
  const role = app.status.role;
  return (
    <div class="screen">
      <h1 data-testid="home-title">
        {t('home.hello', { name: app.status.personName ?? '' })}
        <small class="role">{role ? t(role === 'CLEANER' ? 'role.CLEANER' : 'role.INSPECTOR') : ''}</small>
      </h1>
      {role === 'CLEANER' ? <CleanerHome /> : <InspectorHome />}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Cleaner: rounds to resume, my zones.

function CleanerHome() {
  const app = useApp();
  const [open, setOpen] = useState<RoundView[] | null>(null);
  const [zones, setZones] = useState<ZoneItem[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    ipc.openRounds().then(setOpen, app.showError);
    ipc.myZones().then(setZones, app.showError);
  }, []);

  const start = async (zoneId: string, same: boolean) => {
    setBusy(zoneId + (same ? '-same' : ''));
    try {
      const view = await ipc.startRound(zoneId, same);
      app.navigate({ name: 'round', roundId: view.id, view });
    } catch (e) {
      app.showError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      {open && open.length > 0 && (
        <section class="card card-warn" data-testid="rounds-open">
          <h2>{t('round.resumeTitle')}</h2>
          {open.map((r) => (
            <div class="row" key={r.id}>
              <div class="grow">
                <strong>{r.zoneName}</strong>
                <div class="muted">{t('round.startedAt', { when: relativeTime(r.startedAt, app.now, language()) })}</div>
              </div>
              <button
                type="button"
                class="btn btn-primary"
                data-testid={'round-resume-' + r.id}
                onClick={() => app.navigate({ name: 'round', roundId: r.id, view: r })}
              >
                {t('round.resume')}
              </button>
            </div>
          ))}
        </section>
      )}
      <h2>{t('zones.title')}</h2>
      {zones == null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : zones.length === 0 ? (
        <p class="muted" data-testid="zones-none">
          {t('zones.none')}
        </p>
      ) : (
        zones.map((z) => (
          <section class="card" key={z.id} data-testid={'zone-' + z.id}>
            <h3>{z.name}</h3>
            <p class="muted">{t('zones.checkpoints', { n: z.checkpoints.length })}</p>
            <div class="two">
              <button
                type="button"
                class="btn btn-primary"
                data-testid={'zone-' + z.id + '-start'}
                disabled={busy !== null}
                onClick={() => start(z.id, false)}
              >
                {t('round.start')}
              </button>
              <button
                type="button"
                class="btn"
                data-testid={'zone-' + z.id + '-same'}
                disabled={busy !== null}
                onClick={() => start(z.id, true)}
              >
                {t('round.same')}
              </button>
            </div>
          </section>
        ))
      )}
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Inspector: households of my villages, door-plate scan.

const LIMIT = 100;
/** With "sampled only" on, fetch as many as the phone gives so no sampled household is cut off. */
const LIMIT_SAMPLED = 500;

function distance(m: number): string {
  return m < 1000 ? t('common.meters', { n: Math.round(m) }) : t('common.km', { n: (m / 1000).toFixed(1) });
}

function InspectorHome() {
  const app = useApp();
  const [query, setQuery] = useState('');
  const [list, setList] = useState<HouseholdItem[] | null>(null);
  const [pos, setPos] = useState<{ position: Position | null; source: PositionSource } | null>(null);
  const [near, setNear] = useState(true);
  const [group, setGroup] = useState<string | null>(null);
  const [sampledOnly, setSampledOnly] = useState(false);
  const [plate, setPlate] = useState('');
  const [opening, setOpening] = useState(false);
  const seq = useRef(0);

  const [drafts, setDrafts] = useState<InspectionView[]>([]);
  const [tasks, setTasks] = useState<ReviewTask[]>([]);

  useEffect(() => {
    locateNow(app.settings).then(setPos);
    ipc.openInspections().then(setDrafts, app.showError);
  }, []);

  // Sent-back inspections arrive with a sync: ask again after each one.
  useEffect(() => {
    ipc.reviewTasks().then(setTasks, app.showError);
  }, [app.status.sync.lastSuccess]);

  useEffect(() => {
    const my = ++seq.current;
    const timer = setTimeout(
      () => {
        const q = query.trim() || null;
        const at = near && pos?.position ? pos.position : null;
        ipc.households(q, at, sampledOnly ? LIMIT_SAMPLED : LIMIT).then((l) => {
          if (seq.current === my) setList(l);
        }, app.showError);
      },
      query ? 250 : 0,
    );
    return () => clearTimeout(timer);
  }, [query, near, pos, sampledOnly]);

  const openHousehold = (h: HouseholdItem) => app.navigate({ name: 'inspection', householdId: h.id });

  // The door plate's QR photographed: read on the phone, then opened like a typed plate.
  const scanPlate = async (b64: string) => openHousehold(await ipc.householdByPlate(await ipc.scanQr(b64)));

  const openPlate = async (e?: Event) => {
    e?.preventDefault();
    if (!plate.trim()) return;
    setOpening(true);
    try {
      const h = await ipc.householdByPlate(plate.trim());
      setPlate('');
      openHousehold(h);
    } catch (err) {
      app.showError(err);
    } finally {
      setOpening(false);
    }
  };

  const groups = list ? groupsOf(list) : [];
  // Businesses share one chip (经营户), after the village groups.
  const bizGroup = list?.find((h) => h.kind === 'business')?.groupName;
  const shown = list && arrangeHouseholds(list, { group, sampledOnly, sampledFirst: !pos?.position });
  const todo = list ? sampledTodoCount(list) : 0;
  const resumable = plainDrafts(drafts, tasks);

  return (
    <>
      <SentBack tasks={tasks} />
      {resumable.length > 0 && (
        <section class="card card-warn" data-testid="inspections-open">
          <h2>{t('inspection.resumeTitle')}</h2>
          {resumable.map((d) => (
            <div class="row" key={d.id}>
              <div class="grow">
                <strong>{d.subjectLabel}</strong>
              </div>
              <button
                type="button"
                class="btn btn-primary"
                data-testid={'inspection-resume-' + d.id}
                onClick={() => app.navigate({ name: 'inspection', householdId: d.subjectId, view: d })}
              >
                {t('inspection.resume')}
              </button>
            </div>
          ))}
        </section>
      )}
      <input
        type="search"
        class="search"
        data-testid="household-search"
        value={query}
        placeholder={t('households.search')}
        onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
      />
      <div class="chips">
        {pos?.position ? (
          <button
            type="button"
            class={'chip' + (near ? ' on' : '')}
            aria-pressed={near}
            data-testid="household-near"
            onClick={() => setNear(!near)}
          >
            {near ? t('households.near') : t('households.nearOff')}
            {pos.source === 'fixed' ? ' · ' + t('settings.fixed') : ''}
          </button>
        ) : (
          pos && <span class="muted">{t('households.noFix')}</span>
        )}
        <button
          type="button"
          class={'chip chip-sample' + (sampledOnly ? ' on' : '')}
          aria-pressed={sampledOnly}
          data-testid="household-sampled-only"
          onClick={() => setSampledOnly(!sampledOnly)}
        >
          {t('households.sampledOnly')}
          {todo > 0 ? ' · ' + t('households.sampledTodo', { n: todo }) : ''}
        </button>
      </div>
      {groups.length > 1 && (
        <div class="chips" data-testid="group-filter">
          <button type="button" class={'chip' + (group == null ? ' on' : '')} onClick={() => setGroup(null)}>
            {t('households.allGroups')}
          </button>
          {groups.map((g) => (
            <button
              type="button"
              key={g}
              class={'chip' + (group === g ? ' on' : '')}
              data-testid={'group-' + g}
              onClick={() => setGroup(group === g ? null : g)}
            >
              {g === bizGroup ? t('households.businesses') : g}
            </button>
          ))}
        </div>
      )}
      {shown == null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : shown.length === 0 ? (
        <p class="muted" data-testid="households-none">
          {sampledOnly ? t('households.noneSampled') : t('households.none')}
        </p>
      ) : (
        <ul class="list" data-testid="households">
          {shown.map((h) => (
            <li key={h.id}>
              <button type="button" class="list-btn" data-testid={'household-' + h.id} onClick={() => openHousehold(h)}>
                <span class="grow">
                  <strong class="plate">{h.doorPlate}</strong> {h.headName}
                  <span class="muted block">
                    {h.villageName} · {h.groupName}
                    {h.distanceM != null ? ' · ' + distance(h.distanceM) : ''}
                  </span>
                </span>
                {h.kind === 'business' && h.businessTypeZh && (
                  <span class="tag tag-biz" data-testid={'household-' + h.id + '-business'}>
                    {pick(h.businessTypeZh, h.businessTypeEn)}
                  </span>
                )}
                {h.sampledThisMonth && (
                  <span class="tag tag-sample" data-testid={'household-' + h.id + '-sampled'}>
                    {t('households.sampled')}
                  </span>
                )}
                {h.inspectedThisMonth && (
                  <span class="tag tag-ok" data-testid={'household-' + h.id + '-inspected'}>
                    {t('households.inspected')}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="actionbar platebar" onSubmit={openPlate} noValidate>
        <PhotoInput testid="plate-photo" label={t('plate.photo')} onPhoto={scanPlate} />
        <input
          type="text"
          data-testid="plate-text"
          value={plate}
          placeholder={t('plate.hint')}
          aria-label={t('plate.title')}
          autocapitalize="off"
          spellcheck={false}
          onInput={(e) => setPlate((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" class="btn btn-primary" data-testid="plate-open" disabled={!plate.trim() || opening}>
          {t('plate.open')}
        </button>
      </form>
    </>
  );
}

// ---------------------------------------------------------------------------------------------
// Inspections a township reviewer sent back (有问题): correct them here.

function SentBack({ tasks }: { tasks: ReviewTask[] }) {
  const app = useApp();
  const [busy, setBusy] = useState<string | null>(null);
  if (tasks.length === 0) return null;

  const correct = async (task: ReviewTask) => {
    setBusy(task.id);
    try {
      const view = await ipc.startCorrection(task.inspectionId);
      app.navigate({ name: 'inspection', householdId: view.subjectId, view, correctionOf: task.inspectionId });
    } catch (e) {
      app.showError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section class="card card-bad" data-testid="review-tasks">
      <h2>
        {t('review.title')} <span class="count">{tasks.length}</span>
      </h2>
      <p class="muted">{t('review.intro')}</p>
      {tasks.map((task) => (
        <div class="task" key={task.id} data-testid={'review-task-' + task.id}>
          <strong class="plate">{task.subject}</strong>
          <p class="task-comment" data-testid={'review-task-' + task.id + '-comment'}>
            {t('review.comment', { comment: task.comment })}
          </p>
          <div class="row wrap">
            <span class="muted grow" data-testid={'review-task-' + task.id + '-when'}>
              {t('review.when', { when: relativeTime(task.at, app.now, language()) })}
            </span>
            {task.photo && <Thumb sha={task.photo} label={t('review.photo')} />}
          </div>
          <button
            type="button"
            class="btn btn-primary btn-block"
            data-testid={'review-task-' + task.id + '-correct'}
            disabled={busy !== null}
            onClick={() => correct(task)}
          >
            {busy === task.id ? t('common.loading') : task.correctionId ? t('review.resume') : t('review.correct')}
          </button>
        </div>
      ))}
    </section>
  );
}
