// The inspector's household list as shown: group and "sampled only" filters, and the order.
// Pure, so it can be tested without a device.
import type { HouseholdItem, InspectionView, ReviewTask } from './ipc';

export interface ListView {
  /** Only this group (null: all). */
  group: string | null;
  /** Only households in this month's sample. */
  sampledOnly: boolean;
  /**
   * Put sampled households not yet inspected first: when there is no position fix (with one,
   * the phone's nearest-first order is kept, and "按门牌" means by door plate).
   */
  sampledFirst: boolean;
}

/** Sampled and not yet inspected this month: what the inspector should do first. */
export function sampledTodo(h: HouseholdItem): boolean {
  return h.sampledThisMonth && !h.inspectedThisMonth;
}

/**
 * The households to show: filtered by group and sample; with `sampledFirst` (no position fix),
 * the sampled households not yet inspected this month come first, each part in the phone's
 * order.
 */
export function arrangeHouseholds(list: HouseholdItem[], v: ListView): HouseholdItem[] {
  const shown = list.filter((h) => (v.group == null || h.groupName === v.group) && (!v.sampledOnly || h.sampledThisMonth));
  if (!v.sampledFirst) return shown;
  // A stable partition: the phone's order within each part.
  return [...shown.filter(sampledTodo), ...shown.filter((h) => !sampledTodo(h))];
}

const DIGITS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** 第三村民组 → 第3村民组, 十二 → 12, 二十 → 20: so that groups sort as numbers. */
export function numeralsToDigits(s: string): string {
  return s.replace(/[一二三四五六七八九十]+/g, (m) => {
    const ten = m.indexOf('十');
    if (ten < 0) return m.split('').map((c) => DIGITS[c]).join('');
    const tens = ten === 0 ? 1 : DIGITS[m[ten - 1]] ?? 1;
    const ones = DIGITS[m[ten + 1]] ?? 0;
    return String(tens * 10 + ones);
  });
}

/** The group chips: the distinct group names in number order (第二 before 第三); businesses last. */
export function groupsOf(list: HouseholdItem[]): string[] {
  const business = new Set(list.filter((h) => h.kind === 'business').map((h) => h.groupName));
  const key = (g: string) => (business.has(g) ? '\uffff' : '') + numeralsToDigits(g);
  return Array.from(new Set(list.map((h) => h.groupName).filter(Boolean))).sort((a, b) =>
    key(a).localeCompare(key(b), 'zh-CN', { numeric: true }),
  );
}

/** How many households of the list are sampled and still to inspect. */
export function sampledTodoCount(list: HouseholdItem[]): number {
  return list.filter(sampledTodo).length;
}

/**
 * Drafts to offer under "继续检查": the ones that are not a correction already offered on the
 * sent-back card (which resumes them as corrections).
 */
export function plainDrafts(drafts: InspectionView[], tasks: ReviewTask[]): InspectionView[] {
  const corrections = new Set(tasks.map((t) => t.correctionId).filter(Boolean));
  return drafts.filter((d) => !corrections.has(d.id));
}
