// Rectification orders (限期整改): due dates, overdue marks, order on screen.
import type { RectificationItem } from './ipc';

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** The local calendar date as YYYY-MM-DD. */
export function localDate(d: Date): string {
  return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate());
}

function dayNumber(ymd: string): number {
  const [y, m, d] = ymd.split('-').map(Number);
  return Math.round(Date.UTC(y, (m || 1) - 1, d || 1) / 86400000);
}

/** Whole days from `from` to `to` (both YYYY-MM-DD). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** `ymd` plus `days`, as YYYY-MM-DD. */
export function addDays(ymd: string, days: number): string {
  const d = new Date((dayNumber(ymd) + days) * 86400000);
  return d.getUTCFullYear() + '-' + two(d.getUTCMonth() + 1) + '-' + two(d.getUTCDate());
}

/** The default due date: seven days from today. */
export function defaultDue(now: Date, days = 7): string {
  return addDays(localDate(now), days);
}

/** Still the assignee's to do: open, or sent back. */
export function isOpen(r: RectificationItem): boolean {
  return r.state === 'open' || r.state === 'rejected';
}

/** Past its due date and still to do (the Rust side's mark, or the date as of today). */
export function isOverdue(r: RectificationItem, today: string): boolean {
  return isOpen(r) && (r.overdue || daysBetween(today, r.due) < 0);
}

export interface RectRow {
  item: RectificationItem;
  overdue: boolean;
  /** Days until due; negative when overdue. */
  daysLeft: number;
}

/** To-do orders first, earliest due first (so the overdue ones lead); then the submitted ones. */
export function sortRectifications(items: RectificationItem[], today: string): RectRow[] {
  return items
    .map((item) => ({ item, overdue: isOverdue(item, today), daysLeft: daysBetween(today, item.due) }))
    .sort((a, b) => {
      const oa = isOpen(a.item) ? 0 : 1;
      const ob = isOpen(b.item) ? 0 : 1;
      if (oa !== ob) return oa - ob;
      if (a.item.due !== b.item.due) return a.item.due < b.item.due ? -1 : 1;
      return a.item.id < b.item.id ? -1 : a.item.id > b.item.id ? 1 : 0;
    });
}
