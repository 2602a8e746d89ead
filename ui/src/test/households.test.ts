import { afterEach, describe, expect, it } from 'vitest';
import { arrangeHouseholds, groupsOf, numeralsToDigits, plainDrafts, sampledTodo, sampledTodoCount } from '../lib/households';
import { setLanguage, t, tr } from '../lib/i18n';
import { ipc, type HouseholdItem, type ReviewTask } from '../lib/ipc';
import { household, inspection, installTauri, uninstallTauri } from './mock';

const hh = household;

function task(p: Partial<ReviewTask> = {}): ReviewTask {
  return {
    id: 'rv-1',
    inspectionId: 'insp-old',
    subject: '太平村12号 王大',
    comment: '照片看不清',
    photo: null,
    at: new Date().toISOString(),
    correctionId: null,
    ...p,
  };
}

// In the phone's order (by door plate): 1 plain, 2 sampled and inspected, 3 sampled to do,
// 4 plain in group 2, 5 sampled to do in group 2.
const LIST = [
  hh('1'),
  hh('2', { sampledThisMonth: true, inspectedThisMonth: true }),
  hh('3', { sampledThisMonth: true }),
  hh('4', { groupName: '2组' }),
  hh('5', { sampledThisMonth: true, groupName: '2组' }),
];
const ids = (l: HouseholdItem[]) => l.map((h) => h.id);

describe('household list: groups', () => {
  it('sorts group chips as numbers, businesses last', () => {
    const list = ['太平村第三村民组', '太平村第十一村民组', '太平村第一村民组', '太平村第二村民组'].map((g, i) =>
      hh(String(i), { groupName: g }),
    );
    list.push(hh('b', { kind: 'business', groupName: '经营户' }), hh('x', { groupName: '2组' }), hh('y', { groupName: '10组' }));
    expect(groupsOf(list)).toEqual(['2组', '10组', '太平村第一村民组', '太平村第二村民组', '太平村第三村民组', '太平村第十一村民组', '经营户']);
    expect(['三', '十', '十二', '二十', '二十三', '第九组'].map(numeralsToDigits)).toEqual(['3', '10', '12', '20', '23', '第9组']);
  });
});

describe('household list: sample', () => {
  it('knows what is sampled and still to inspect', () => {
    expect(LIST.map(sampledTodo)).toEqual([false, false, true, false, true]);
    expect(sampledTodoCount(LIST)).toBe(2);
    expect(sampledTodoCount([])).toBe(0);
  });

  it('puts sampled households not yet inspected first when there is no fix, keeping the order within', () => {
    expect(ids(arrangeHouseholds(LIST, { group: null, sampledOnly: false, sampledFirst: true }))).toEqual([
      '3',
      '5',
      '1',
      '2',
      '4',
    ]);
  });

  it('keeps the phone’s order (nearest first, or by door plate) when there is a fix', () => {
    expect(ids(arrangeHouseholds(LIST, { group: null, sampledOnly: false, sampledFirst: false }))).toEqual(ids(LIST));
  });

  it('shows only sampled households (inspected ones too) with the filter on', () => {
    expect(ids(arrangeHouseholds(LIST, { group: null, sampledOnly: true, sampledFirst: true }))).toEqual(['3', '5', '2']);
    expect(ids(arrangeHouseholds(LIST, { group: null, sampledOnly: true, sampledFirst: false }))).toEqual(['2', '3', '5']);
  });

  it('combines the group and sample filters', () => {
    expect(ids(arrangeHouseholds(LIST, { group: '2组', sampledOnly: false, sampledFirst: true }))).toEqual(['5', '4']);
    expect(ids(arrangeHouseholds(LIST, { group: '2组', sampledOnly: true, sampledFirst: true }))).toEqual(['5']);
    expect(ids(arrangeHouseholds(LIST, { group: '3组', sampledOnly: false, sampledFirst: true }))).toEqual([]);
    expect(groupsOf(LIST)).toEqual(['1组', '2组']);
  });

  it('does not change the list it is given', () => {
    const copy = LIST.slice();
    arrangeHouseholds(LIST, { group: null, sampledOnly: true, sampledFirst: true });
    expect(LIST).toEqual(copy);
  });
});

describe('sent back', () => {
  it('offers a correction draft on the sent-back card only, not again under 继续检查', () => {
    const drafts = [inspection({ id: 'd-plain' }), inspection({ id: 'd-fix' })];
    expect(plainDrafts(drafts, [task({ correctionId: 'd-fix' })]).map((d) => d.id)).toEqual(['d-plain']);
    expect(plainDrafts(drafts, [task()]).map((d) => d.id)).toEqual(['d-plain', 'd-fix']);
    expect(plainDrafts(drafts, []).length).toBe(2);
  });

  it('has the words in Chinese and English', () => {
    expect(tr('zh-CN', 'review.title')).toBe('退回待改');
    expect(tr('en', 'review.title')).toBe('Sent back');
    expect(tr('zh-CN', 'review.correct')).toBe('更正');
    expect(tr('en', 'review.correct')).toBe('Correct');
    expect(tr('zh-CN', 'insp.correction')).toBe('更正：替代原记录');
    expect(tr('en', 'insp.correction')).toBe('Correction: replaces the original');
    expect(tr('zh-CN', 'households.sampled')).toBe('本月抽样');
    expect(tr('en', 'households.sampledOnly')).toBe('Sampled only');
    setLanguage('en');
    expect(t('households.sampled')).toBe('Sampled');
    setLanguage('zh-CN');
  });
});

describe('ipc: review', () => {
  afterEach(uninstallTauri);

  it('calls review_tasks and start_correction with camelCase arguments', async () => {
    const invoke = installTauri({ review_tasks: () => [task()], start_correction: () => inspection() });
    expect(await ipc.reviewTasks()).toEqual([task({ at: expect.any(String) as unknown as string })]);
    await ipc.startCorrection('insp-old');
    expect(invoke.mock.calls).toEqual([
      ['review_tasks', undefined],
      ['start_correction', { inspectionId: 'insp-old' }],
    ]);
  });
});
