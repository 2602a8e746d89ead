// The sync badge in words: what is waiting, how much photo data is left, when the last sync
// succeeded. Times are the phone's local time.
import type { SyncBadge } from './ipc';
import { tr, type Lang } from './i18n';

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "刚刚 / 5分钟前 / 今天 09:30 / 昨天 14:05 / 5月3日 14:05 / 从未同步". */
export function relativeTime(iso: string | null | undefined, now: Date, lang: Lang): string {
  if (!iso) return tr(lang, 'time.never');
  const then = new Date(iso);
  if (isNaN(then.getTime())) return iso;
  const secs = (now.getTime() - then.getTime()) / 1000;
  if (secs < 60) return tr(lang, 'time.justNow');
  if (secs < 3600) return tr(lang, 'time.minutesAgo', { n: Math.floor(secs / 60) });
  const hm = two(then.getHours()) + ':' + two(then.getMinutes());
  if (sameDay(then, now)) return tr(lang, 'time.today', { hm });
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (sameDay(then, yesterday)) return tr(lang, 'time.yesterday', { hm });
  return tr(lang, 'time.date', { m: then.getMonth() + 1, d: then.getDate(), hm });
}

/** Bytes in KB (whole, rounded up so a few bytes never show as 0) or MB (one decimal). */
export function formatBytes(n: number, lang: Lang): string {
  if (!(n > 0)) return tr(lang, 'bytes.kb', { n: 0 });
  if (n < 1024 * 1024) return tr(lang, 'bytes.kb', { n: Math.ceil(n / 1024) });
  return tr(lang, 'bytes.mb', { n: (n / (1024 * 1024)).toFixed(1) });
}

export type BadgeTone = 'ok' | 'pending' | 'error' | 'syncing';

export interface BadgeWords {
  /** "全部已同步" or "待传 3 条记录 · 2 张照片". */
  pending: string;
  /** "照片还剩 1.2 MB", or null when no photo bytes are left. */
  bytes: string | null;
  /** "上次同步：5分钟前". */
  last: string;
  /** "同步没成功：…", or null. */
  error: string | null;
  tone: BadgeTone;
}

export function badgeWords(b: SyncBadge, now: Date, lang: Lang): BadgeWords {
  const waiting = b.pendingRecords > 0 || b.pendingPhotos > 0;
  const pending = waiting
    ? tr(lang, 'sync.pending', { records: b.pendingRecords, photos: b.pendingPhotos })
    : tr(lang, 'sync.allDone');
  const bytes = b.photoBytesRemaining > 0 ? tr(lang, 'sync.bytes', { size: formatBytes(b.photoBytesRemaining, lang) }) : null;
  const last = tr(lang, 'sync.last', { when: relativeTime(b.lastSuccess, now, lang) });
  const error = b.lastErrorZh ? tr(lang, 'sync.error', { error: b.lastErrorZh }) : null;
  const tone: BadgeTone = b.syncing ? 'syncing' : error || b.needsReenroll ? 'error' : waiting ? 'pending' : 'ok';
  return { pending, bytes, last, error, tone };
}
