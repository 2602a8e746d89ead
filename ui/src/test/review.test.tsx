// The inspector's home with the sample and the sent-back card, and the correction flow, with
// `invoke` mocked.
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { HistoryItem, InspectionView, ReviewTask } from '../lib/ipc';
import { badge, byTestId, choosePhoto, flush, household, inspection, installTauri, item, status, uninstallTauri, type Handler } from './mock';

let root: HTMLElement;

beforeEach(() => {
  root = document.createElement('div');
  document.body.appendChild(root);
  history.replaceState(null, '', '#/');
});

afterEach(async () => {
  await act(async () => render(null, root));
  root.remove();
  uninstallTauri();
});

async function settle() {
  for (let i = 0; i < 4; i++) await act(() => flush(3));
}

async function mount() {
  await act(async () => {
    render(<App />, root);
  });
  await settle();
}

async function tap(id: string) {
  await act(async () => {
    byTestId(root, id).click();
  });
  await settle();
}

const hh = household;

const HOUSEHOLDS = [
  hh('1'),
  hh('2', { sampledThisMonth: true, inspectedThisMonth: true }),
  hh('3', { sampledThisMonth: true }),
  hh('4'),
];

const TASK: ReviewTask = {
  id: 'rv-1',
  inspectionId: 'insp-old',
  subject: '太平村3号 王3',
  comment: '门前照片看不清，请重拍',
  photo: null,
  at: new Date(Date.now() - 5 * 60 * 1000).toISOString(),
  correctionId: null,
};

function backend(overrides: Record<string, Handler> = {}) {
  return installTauri({
    app_status: () => status(),
    sync_now: () => badge(),
    open_inspections: () => [],
    households: () => HOUSEHOLDS,
    review_tasks: () => [],
    ...overrides,
  });
}

const shownIds = () =>
  Array.from(root.querySelectorAll('[data-testid="households"] > li > button')).map((b) =>
    b.getAttribute('data-testid')!.replace('household-', ''),
  );

describe('inspector home: this month’s sample', () => {
  it('marks sampled households, puts the ones still to inspect first without a fix, and filters', async () => {
    const invoke = backend();
    await mount();
    expect(byTestId(root, 'household-3-sampled').textContent).toBe('本月抽样');
    expect(byTestId(root, 'household-2-sampled').textContent).toBe('本月抽样');
    expect(root.querySelector('[data-testid="household-1-sampled"]')).toBeNull();
    // No fix: the sampled household not yet inspected first, the rest in the phone's order.
    expect(shownIds()).toEqual(['3', '1', '2', '4']);

    const chip = byTestId(root, 'household-sampled-only');
    expect(chip.textContent).toContain('只看抽样');
    expect(chip.textContent).toContain('1 户未查');
    expect(chip.getAttribute('aria-pressed')).toBe('false');
    await tap('household-sampled-only');
    expect(byTestId(root, 'household-sampled-only').getAttribute('aria-pressed')).toBe('true');
    expect(shownIds()).toEqual(['3', '2']);
    // Asked for more, so no sampled household is cut off by the limit.
    expect(invoke).toHaveBeenLastCalledWith('households', { query: null, near: null, limit: 500 });

    await tap('household-sampled-only');
    expect(shownIds()).toEqual(['3', '1', '2', '4']);
  });

  it('keeps the phone’s order when there is a fix (nearest first, or by door plate)', async () => {
    const fixed = { lat: 27.6, lon: 113.8, accuracyM: 6 };
    backend({
      app_status: () => status({ settings: { language: 'zh-CN', photoLongEdge: 1600, fixedPosition: fixed } }),
      households: (a) => (a.near ? HOUSEHOLDS.map((h, i) => ({ ...h, distanceM: 10 * (i + 1) })) : HOUSEHOLDS),
    });
    await mount();
    expect(byTestId(root, 'household-near').getAttribute('aria-pressed')).toBe('true');
    expect(shownIds()).toEqual(['1', '2', '3', '4']);
    // "按门牌" means by door plate.
    await tap('household-near');
    expect(byTestId(root, 'household-near').textContent).toContain('按门牌');
    expect(shownIds()).toEqual(['1', '2', '3', '4']);
  });

  it('says so when nothing is sampled', async () => {
    backend({ households: () => [hh('1')] });
    await mount();
    expect(byTestId(root, 'household-sampled-only').textContent).not.toContain('未查');
    await tap('household-sampled-only');
    expect(byTestId(root, 'households-none').textContent).toContain('本月没有抽到的户');
  });

  it('says Sampled in English', async () => {
    backend({ app_status: () => status({ settings: { language: 'en', photoLongEdge: 1600, fixedPosition: null } }) });
    await mount();
    expect(byTestId(root, 'household-3-sampled').textContent).toBe('Sampled');
    expect(byTestId(root, 'household-sampled-only').textContent).toContain('Sampled only');
  });
});

describe('inspector home: businesses', () => {
  const shop = hh('b1', {
    kind: 'business',
    businessTypeZh: '沿街门市',
    businessTypeEn: 'Street shop',
    doorPlate: '太平村街01号',
    headName: '太平村便民超市（王建国）',
    groupName: '经营户',
  });
  const list = [hh('1'), hh('2', { groupName: '2组' }), shop];

  it('lists businesses with their type, under their own group chip', async () => {
    backend({ households: () => list });
    await mount();
    expect(byTestId(root, 'household-b1-business').textContent).toBe('沿街门市');
    expect(root.querySelector('[data-testid="household-1-business"]')).toBeNull();
    expect(byTestId(root, 'group-经营户').textContent).toBe('经营户');
    await tap('group-经营户');
    expect(shownIds()).toEqual(['b1']);
    await tap('group-2组');
    expect(shownIds()).toEqual(['2']);
  });

  it('opens a business like a household', async () => {
    backend({ households: () => list, start_inspection: () => inspection({ subjectId: 'b1', subjectLabel: '太平村街01号 太平村便民超市' }) });
    await mount();
    await tap('household-b1');
    expect(location.hash).toContain('b1');
  });

  it('opens what a photographed door-plate QR names', async () => {
    const text = 'cunjie://business/b1';
    const invoke = backend({
      households: () => list,
      scan_qr: () => text,
      household_by_plate: (a) => (a.text === text ? shop : null),
      start_inspection: () => inspection({ subjectId: 'b1' }),
    });
    await mount();
    await act(async () => choosePhoto(byTestId(root, 'plate-photo')));
    for (let i = 0; i < 4; i++) await act(() => flush(3));
    expect(invoke).toHaveBeenCalledWith('scan_qr', { photoBase64: '/9j/' });
    expect(invoke).toHaveBeenCalledWith('household_by_plate', { text });
    expect(location.hash).toBe('#/inspection/b1');
  });

  it('says Businesses and the type in English', async () => {
    backend({
      app_status: () => status({ settings: { language: 'en', photoLongEdge: 1600, fixedPosition: null } }),
      households: () => list,
    });
    await mount();
    expect(byTestId(root, 'household-b1-business').textContent).toBe('Street shop');
    expect(byTestId(root, 'group-经营户').textContent).toBe('Businesses');
  });
});

describe('inspector home: sent back', () => {
  it('shows no card when nothing was sent back', async () => {
    backend();
    await mount();
    expect(root.querySelector('[data-testid="review-tasks"]')).toBeNull();
  });

  it('lists what was sent back with the reviewer’s words and when', async () => {
    backend({ review_tasks: () => [TASK, { ...TASK, id: 'rv-2', subject: '太平村4号 王4', correctionId: 'draft-2' }] });
    await mount();
    const card = byTestId(root, 'review-tasks');
    expect(card.textContent).toContain('退回待改');
    expect(byTestId(root, 'review-task-rv-1').textContent).toContain('太平村3号 王3');
    expect(byTestId(root, 'review-task-rv-1-comment').textContent).toBe('审核意见：门前照片看不清，请重拍');
    expect(byTestId(root, 'review-task-rv-1-when').textContent).toBe('退回于 5分钟前');
    expect(byTestId(root, 'review-task-rv-1-correct').textContent).toBe('更正');
    expect(byTestId(root, 'review-task-rv-2-correct').textContent).toBe('继续更正');
  });

  it('corrects: start_correction, then the checklist on the returned draft, marked as a correction', async () => {
    let view: InspectionView = inspection({
      id: 'draft-1',
      subjectId: 'hh-3',
      subjectLabel: '太平村3号 王3',
      items: [item({ code: 'A1', outcome: 'pass', naAllowed: true })],
    });
    let corrected = false;
    let started = false;
    const invoke = backend({
      review_tasks: () => (corrected ? [] : [{ ...TASK, correctionId: started ? view.id : null }]),
      open_inspections: () => (started && !corrected ? [view] : []),
      start_correction: () => {
        started = true;
        return view;
      },
      start_inspection: () => {
        throw { code: 'wrong', message: '不该开普通检查' };
      },
      answer_item: (a) => (view = { ...view, items: view.items.map((i) => ({ ...i, outcome: a.outcome as 'fail' })) }),
      submit_inspection: () => {
        corrected = true;
        return (view = { ...view, submitted: true });
      },
    });
    await mount();
    await tap('review-task-rv-1-correct');
    expect(invoke).toHaveBeenCalledWith('start_correction', { inspectionId: 'insp-old' });
    expect(invoke.mock.calls.some((c) => c[0] === 'start_inspection')).toBe(false);
    expect(byTestId(root, 'inspection-title').textContent).toBe('太平村3号 王3');
    expect(byTestId(root, 'inspection-correction').textContent).toBe('更正：替代原记录');
    expect(location.hash).toBe('#/inspection/hh-3');
    expect(root.querySelector('[data-testid="error-banner"]')).toBeNull();

    // Filled in and submitted like any draft.
    await tap('item-A1-na');
    await tap('item-A1-pass');
    expect(invoke).toHaveBeenCalledWith('answer_item', {
      inspectionId: 'draft-1',
      itemCode: 'A1',
      outcome: 'pass',
      count: 1,
      note: null,
    });
    await tap('inspection-submit');
    expect(invoke).toHaveBeenCalledWith('submit_inspection', { inspectionId: 'draft-1' });
    expect(byTestId(root, 'inspection-submitted')).toBeTruthy();
    expect(byTestId(root, 'inspection-correction')).toBeTruthy();

    // Home again: the task is gone.
    await tap('inspection-done');
    expect(root.querySelector('[data-testid="review-tasks"]')).toBeNull();
  });

  it('offers a started correction as 继续更正 on the card, not again under 继续检查', async () => {
    const draft = inspection({ id: 'draft-1', subjectId: 'hh-3' });
    const invoke = backend({
      review_tasks: () => [{ ...TASK, correctionId: 'draft-1' }],
      open_inspections: () => [draft, inspection({ id: 'draft-9', subjectId: 'hh-9' })],
      start_correction: () => draft,
    });
    await mount();
    expect(byTestId(root, 'review-task-rv-1-correct').textContent).toBe('继续更正');
    expect(root.querySelector('[data-testid="inspection-resume-draft-1"]')).toBeNull();
    expect(byTestId(root, 'inspection-resume-draft-9')).toBeTruthy();
    await tap('review-task-rv-1-correct');
    expect(invoke).toHaveBeenCalledWith('start_correction', { inspectionId: 'insp-old' });
    expect(byTestId(root, 'inspection-correction')).toBeTruthy();
  });

  it('resumes a correction after the app was killed (the route keeps which inspection it corrects)', async () => {
    const view = inspection({ id: 'draft-1', subjectId: 'hh-3' });
    const invoke = backend({ start_correction: () => view });
    history.replaceState(
      { name: 'inspection', householdId: 'hh-3', correctionOf: 'insp-old' },
      '',
      '#/inspection/hh-3',
    );
    await mount();
    await act(() => flush(10));
    expect(invoke).toHaveBeenCalledWith('start_correction', { inspectionId: 'insp-old' });
    expect(byTestId(root, 'inspection-correction')).toBeTruthy();
  });

  it('shows a refused correction in the red banner and stays home', async () => {
    backend({
      review_tasks: () => [TASK],
      start_correction: () => {
        throw { code: 'not_found', message: '找不到这条检查' };
      },
    });
    await mount();
    await tap('review-task-rv-1-correct');
    expect(byTestId(root, 'error-banner').textContent).toContain('找不到这条检查');
    expect(byTestId(root, 'review-tasks')).toBeTruthy();
    expect((byTestId(root, 'review-task-rv-1-correct') as HTMLButtonElement).disabled).toBe(false);
  });

  it('an ordinary inspection has no correction line', async () => {
    backend({ start_inspection: () => inspection() });
    history.replaceState({ name: 'inspection', householdId: 'hh-1' }, '', '#/inspection/hh-1');
    await mount();
    await act(() => flush(10));
    expect(byTestId(root, 'inspection-title')).toBeTruthy();
    expect(root.querySelector('[data-testid="inspection-correction"]')).toBeNull();
  });
});

describe('history', () => {
  it('still lists the original and its correction', async () => {
    const at = new Date().toISOString();
    const items: HistoryItem[] = [
      { id: 'draft-1', kind: 'inspection', label: '太平村3号 王3', submittedAt: at, state: 'pending', stateZh: '待同步', reason: null },
      { id: 'insp-old', kind: 'inspection', label: '太平村3号 王3', submittedAt: at, state: 'synced', stateZh: '已同步', reason: null },
    ];
    backend({ history: () => items });
    history.replaceState({ name: 'history' }, '', '#/history');
    await mount();
    expect(byTestId(root, 'history-item-draft-1-state').textContent).toBe('待同步');
    expect(byTestId(root, 'history-item-insp-old-state').textContent).toBe('已同步');
  });
});
