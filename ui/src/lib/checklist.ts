// The checklist's rules as the screen shows them. The Rust side validates again on submit;
// these only tell the inspector, item by item, what is still missing.
import { t } from './i18n';
import type { ChecklistItem, InspectionView, IssueView, Outcome } from './ipc';

export const MAX_COUNT = 999;

export interface ItemNeeds {
  answer: boolean;
  photo: boolean;
  note: boolean;
}

/** What one item still needs: an answer, or on failure a photo and a note when the template asks. */
export function itemNeeds(item: ChecklistItem): ItemNeeds {
  const failed = item.outcome === 'fail';
  return {
    answer: item.outcome == null,
    photo: failed && item.photoOnFail && item.photos.length === 0,
    note: failed && item.noteOnFail && !(item.note && item.note.trim()),
  };
}

/** The outcomes the item offers: N/A only when the template allows it. */
export function outcomesFor(item: ChecklistItem): Outcome[] {
  return item.naAllowed ? ['pass', 'fail', 'not_applicable'] : ['pass', 'fail'];
}

export function clampCount(n: number): number {
  if (!isFinite(n)) return 1;
  return Math.min(MAX_COUNT, Math.max(1, Math.round(n)));
}

export interface SubmitState {
  allowed: boolean;
  unanswered: string[];
  needPhoto: string[];
  needNote: string[];
  /** Blocking issues the Rust side reported that are not one of the above. */
  blocking: IssueView[];
}

/** Whether the inspection can be submitted, and if not, what is missing. */
export function submitState(view: InspectionView): SubmitState {
  const unanswered: string[] = [];
  const needPhoto: string[] = [];
  const needNote: string[] = [];
  for (const item of view.items) {
    const n = itemNeeds(item);
    if (n.answer) unanswered.push(item.code);
    if (n.photo) needPhoto.push(item.code);
    if (n.note) needNote.push(item.code);
  }
  const blocking = view.issues.filter((i) => i.blocking);
  const allowed =
    !view.submitted && unanswered.length === 0 && needPhoto.length === 0 && needNote.length === 0 && blocking.length === 0;
  return { allowed, unanswered, needPhoto, needNote, blocking };
}

/** Failed items, for rectification orders after submitting. */
export function failedItems(view: InspectionView): ChecklistItem[] {
  return view.items.filter((i) => i.outcome === 'fail');
}

/** An amount with its unit: 分 on a points checklist, 元 on the township's yuan one (Scheme T). */
export function amountText(amount: string, unit: InspectionView['unit']): string {
  return t(unit === 'yuan' ? 'unit.yuan' : 'unit.points', { n: amount });
}

/** Items grouped by section, in template order. */
export function bySection(items: ChecklistItem[]): { section: string; items: ChecklistItem[] }[] {
  const out: { section: string; items: ChecklistItem[] }[] = [];
  for (const item of items) {
    const last = out[out.length - 1];
    if (last && last.section === item.section) last.items.push(item);
    else out.push({ section: item.section, items: [item] });
  }
  return out;
}
