import { describe, expect, it, vi } from 'vitest';
import { badgeWords, formatBytes, relativeTime } from '../lib/badge';
import { bytesToBase64, fileToBase64 } from '../lib/base64';
import { bySection, clampCount, failedItems, itemNeeds, outcomesFor, submitState } from '../lib/checklist';
import { formatCode, isCompleteCode, normalizeCode, normalizeServer, parseEnrollText } from '../lib/enroll';
import { pick, setLanguage, t, toLang, tr, type Key } from '../lib/i18n';
import { fixFromPlugin, locate, type GeoApi } from '../lib/position';
import { addDays, daysBetween, defaultDue, isOverdue, localDate, sortRectifications } from '../lib/rectify';
import { createSyncRunner } from '../lib/sync';
import type { RectificationItem, Settings } from '../lib/ipc';
import { badge, inspection, item } from './mock';

// Local times, so the tests pass in any time zone.
const NOW = new Date(2025, 4, 20, 15, 30, 0); // 2025-05-20 15:30 local

describe('sync badge words', () => {
  it('says when the last sync was, in Chinese', () => {
    const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
    expect(relativeTime(null, NOW, 'zh-CN')).toBe('从未同步');
    expect(relativeTime(ago(20 * 1000), NOW, 'zh-CN')).toBe('刚刚');
    expect(relativeTime(ago(5 * 60 * 1000), NOW, 'zh-CN')).toBe('5分钟前');
    expect(relativeTime(ago(59 * 60 * 1000 + 59000), NOW, 'zh-CN')).toBe('59分钟前');
    expect(relativeTime(new Date(2025, 4, 20, 9, 5).toISOString(), NOW, 'zh-CN')).toBe('今天 09:05');
    expect(relativeTime(new Date(2025, 4, 19, 14, 5).toISOString(), NOW, 'zh-CN')).toBe('昨天 14:05');
    expect(relativeTime(new Date(2025, 4, 3, 8, 0).toISOString(), NOW, 'zh-CN')).toBe('5月3日 08:00');
  });

  it('says it in English too', () => {
    expect(relativeTime(undefined, NOW, 'en')).toBe('never synced');
    expect(relativeTime(new Date(NOW.getTime() - 5000).toISOString(), NOW, 'en')).toBe('just now');
    expect(relativeTime(new Date(NOW.getTime() - 12 * 60000).toISOString(), NOW, 'en')).toBe('12 min ago');
    expect(relativeTime(new Date(2025, 4, 19, 14, 5).toISOString(), NOW, 'en')).toBe('yesterday 14:05');
  });

  it('treats a time a little in the future (clock skew) as just now, and keeps a garbled one as is', () => {
    expect(relativeTime(new Date(NOW.getTime() + 30000).toISOString(), NOW, 'zh-CN')).toBe('刚刚');
    expect(relativeTime('not a time', NOW, 'zh-CN')).toBe('not a time');
  });

  it('gives bytes in KB (rounded up, never 0 for a few bytes) and MB', () => {
    expect(formatBytes(0, 'zh-CN')).toBe('0 KB');
    expect(formatBytes(1, 'zh-CN')).toBe('1 KB');
    expect(formatBytes(1024, 'zh-CN')).toBe('1 KB');
    expect(formatBytes(300 * 1024 + 1, 'zh-CN')).toBe('301 KB');
    expect(formatBytes(1024 * 1024, 'zh-CN')).toBe('1.0 MB');
    expect(formatBytes(2.45 * 1024 * 1024, 'en')).toBe('2.5 MB');
  });

  it('puts the badge into words with a tone', () => {
    const ok = badgeWords(badge({ lastSuccess: new Date(NOW.getTime() - 120000).toISOString() }), NOW, 'zh-CN');
    expect(ok).toEqual({ pending: '全部已同步', bytes: null, last: '上次同步：2分钟前', error: null, tone: 'ok' });
    const waiting = badgeWords(badge({ pendingRecords: 3, pendingPhotos: 2, photoBytesRemaining: 1536 * 1024 }), NOW, 'zh-CN');
    expect(waiting.pending).toBe('待传 3 条记录 · 2 张照片');
    expect(waiting.bytes).toBe('照片还剩 1.5 MB');
    expect(waiting.last).toBe('上次同步：从未同步');
    expect(waiting.tone).toBe('pending');
    const failed = badgeWords(badge({ pendingRecords: 1, lastErrorZh: '连不上服务器' }), NOW, 'zh-CN');
    expect(failed.error).toBe('同步没成功：连不上服务器');
    expect(failed.tone).toBe('error');
    expect(badgeWords(badge({ syncing: true, lastErrorZh: 'x' }), NOW, 'zh-CN').tone).toBe('syncing');
    expect(badgeWords(badge({ needsReenroll: true }), NOW, 'zh-CN').tone).toBe('error');
  });
});

describe('enrollment text', () => {
  it('reads a full enrollment QR: server and code', () => {
    expect(parseEnrollText('cunjie://enroll?server=http%3A%2F%2F10.0.0.2%3A8080%2F&code=abcde-fghjk')).toEqual({
      ok: true,
      server: 'http://10.0.0.2:8080',
      code: 'ABCDEFGHJK',
    });
    expect(parseEnrollText('  CUNJIE://enroll?code=ABCDEFGHJK&server=https://town.example/  ')).toEqual({
      ok: true,
      server: 'https://town.example',
      code: 'ABCDEFGHJK',
    });
  });

  it('reads a bare code (what cunjie-server enroll prints as a QR)', () => {
    expect(parseEnrollText('7QK2M-9XW4P')).toEqual({ ok: true, server: null, code: '7QK2M9XW4P' });
  });

  it('refuses a QR without a code, with a bad server, or that is not ours', () => {
    expect(parseEnrollText('cunjie://enroll?server=http://a:1')).toEqual({ ok: false, reason: 'missing_code' });
    expect(parseEnrollText('cunjie://enroll?server=http://a:1&code=')).toEqual({ ok: false, reason: 'missing_code' });
    expect(parseEnrollText('cunjie://enroll?server=ftp://a&code=ABCDEFGHJK')).toEqual({ ok: false, reason: 'bad_server' });
    expect(parseEnrollText('https://weixin.qq.com/abc')).toEqual({ ok: false, reason: 'not_enroll' });
    expect(parseEnrollText('cunjie://household/123')).toEqual({ ok: false, reason: 'not_enroll' });
    expect(parseEnrollText('')).toEqual({ ok: false, reason: 'not_enroll' });
  });

  it('normalises a typed code as the server does', () => {
    expect(normalizeCode('abcde-fghjk')).toBe('ABCDEFGHJK');
    expect(normalizeCode(' 1o2i3l ')).toBe('102131');
    expect(normalizeCode('AB CD—EF')).toBe('ABCDEF');
    expect(formatCode('abcdefghjk')).toBe('ABCDE-FGHJK');
    expect(formatCode('abcdef')).toBe('ABCDE-F');
    expect(formatCode('ABCDE-')).toBe('ABCDE');
    expect(isCompleteCode('abcde fghjk')).toBe(true);
    expect(isCompleteCode('ABCDEFGHJ')).toBe(false);
    expect(isCompleteCode('ABCDEFGHJU')).toBe(false); // U is not in the alphabet
  });

  it('completes a typed server address', () => {
    expect(normalizeServer(' 192.168.1.5:8080/ ')).toBe('http://192.168.1.5:8080');
    expect(normalizeServer('https://x.cn')).toBe('https://x.cn');
    expect(normalizeServer('  ')).toBe('');
  });
});

describe('position', () => {
  const settings = (fixed: Settings['fixedPosition']): Settings => ({ language: 'zh-CN', photoLongEdge: 1600, fixedPosition: fixed });
  const plugin = (answer: () => Promise<unknown>): GeoApi => ({ getCurrentPosition: answer as GeoApi['getCurrentPosition'] });

  it('treats the desktop plugin answer 0, 0, accuracy 0 as no fix', () => {
    expect(fixFromPlugin({ coords: { latitude: 0, longitude: 0, accuracy: 0 } })).toBeNull();
    expect(fixFromPlugin({ coords: { latitude: 28.1, longitude: 113.9, accuracy: 0 } })).toBeNull();
    expect(fixFromPlugin({ coords: { latitude: NaN, longitude: 113.9, accuracy: 5 } })).toBeNull();
    expect(fixFromPlugin(null)).toBeNull();
    expect(fixFromPlugin({ coords: { latitude: 28.1, longitude: 113.9, accuracy: 8 } })).toEqual({ lat: 28.1, lon: 113.9, accuracyM: 8 });
  });

  it('uses the plugin when present, never the fixed position then', async () => {
    const fixed = { lat: 27.6, lon: 113.8, accuracyM: 5 };
    const good = plugin(async () => ({ coords: { latitude: 28.1, longitude: 113.9, accuracy: 8 } }));
    expect(await locate(good, settings(fixed))).toEqual({ position: { lat: 28.1, lon: 113.9, accuracyM: 8 }, source: 'gps' });
    const desktop = plugin(async () => ({ coords: { latitude: 0, longitude: 0, accuracy: 0 } }));
    expect(await locate(desktop, settings(fixed))).toEqual({ position: null, source: 'none' });
  });

  it('uses the fixed position only when there is no plugin, else no fix', async () => {
    const fixed = { lat: 27.6, lon: 113.8, accuracyM: 5 };
    expect(await locate(undefined, settings(fixed))).toEqual({ position: fixed, source: 'fixed' });
    expect(await locate(undefined, settings(null))).toEqual({ position: null, source: 'none' });
    expect(await locate(undefined, null)).toEqual({ position: null, source: 'none' });
  });

  it('asks for the permission once when the plugin fails, then tries again', async () => {
    let calls = 0;
    const geo: GeoApi = {
      getCurrentPosition: async () => {
        calls++;
        if (calls === 1) throw new Error('permission');
        return { coords: { latitude: 28, longitude: 114, accuracy: 12 } };
      },
      checkPermissions: async () => ({ location: 'prompt' }),
      requestPermissions: vi.fn(async () => ({ location: 'granted' })),
    };
    expect(await locate(geo, null)).toEqual({ position: { lat: 28, lon: 114, accuracyM: 12 }, source: 'gps' });
    expect(geo.requestPermissions).toHaveBeenCalledTimes(1);
    const refused: GeoApi = {
      getCurrentPosition: async () => {
        throw new Error('denied');
      },
      checkPermissions: async () => ({ location: 'denied' }),
      requestPermissions: async () => ({ location: 'denied' }),
    };
    expect(await locate(refused, null)).toEqual({ position: null, source: 'none' });
  });
});

describe('checklist rules', () => {
  it('says what a failed item still needs', () => {
    expect(itemNeeds(item())).toEqual({ answer: true, photo: false, note: false });
    expect(itemNeeds(item({ outcome: 'pass' }))).toEqual({ answer: false, photo: false, note: false });
    expect(itemNeeds(item({ outcome: 'fail', photoOnFail: true, noteOnFail: true }))).toEqual({ answer: false, photo: true, note: true });
    expect(itemNeeds(item({ outcome: 'fail', photoOnFail: true, photos: ['ab'], noteOnFail: true, note: '  ' }))).toEqual({
      answer: false,
      photo: false,
      note: true,
    });
    expect(itemNeeds(item({ outcome: 'fail', photoOnFail: false, noteOnFail: true, note: '堆放杂物' }))).toEqual({
      answer: false,
      photo: false,
      note: false,
    });
  });

  it('allows submit only when every item is answered and nothing is missing or blocking', () => {
    const a = item({ code: 'A', outcome: 'pass' });
    const b = item({ code: 'B', outcome: 'fail', photoOnFail: true });
    const c = item({ code: 'C', outcome: null });
    let s = submitState(inspection({ items: [a, b, c] }));
    expect(s.allowed).toBe(false);
    expect(s.unanswered).toEqual(['C']);
    expect(s.needPhoto).toEqual(['B']);
    s = submitState(inspection({ items: [a, { ...b, photos: ['ff'] }, { ...c, outcome: 'not_applicable' }] }));
    expect(s.allowed).toBe(true);
    const blocking = { code: 'x', itemCode: null, messageZh: '缺少定位', messageEn: 'no fix', blocking: true };
    s = submitState(inspection({ items: [a], issues: [blocking] }));
    expect(s.allowed).toBe(false);
    expect(s.blocking).toEqual([blocking]);
    expect(submitState(inspection({ items: [a], issues: [{ ...blocking, blocking: false }] })).allowed).toBe(true);
    expect(submitState(inspection({ items: [a], submitted: true })).allowed).toBe(false);
  });

  it('offers N/A only when the template allows it, keeps counts in range, groups by section', () => {
    expect(outcomesFor(item({ naAllowed: false }))).toEqual(['pass', 'fail']);
    expect(outcomesFor(item({ naAllowed: true }))).toEqual(['pass', 'fail', 'not_applicable']);
    expect([clampCount(0), clampCount(3.4), clampCount(5000), clampCount(NaN)]).toEqual([1, 3, 999, 1]);
    const items = [item({ code: 'a', section: 'S1' }), item({ code: 'b', section: 'S1' }), item({ code: 'c', section: 'S2' })];
    expect(bySection(items).map((s) => [s.section, s.items.map((i) => i.code)])).toEqual([
      ['S1', ['a', 'b']],
      ['S2', ['c']],
    ]);
    expect(failedItems(inspection({ items: [item({ code: 'a', outcome: 'fail' }), item({ code: 'b', outcome: 'pass' })] })).map((i) => i.code)).toEqual(['a']);
  });
});

describe('rectifications', () => {
  const r = (p: Partial<RectificationItem>): RectificationItem => ({
    id: 'r',
    subjectLabel: '太平村1号',
    itemLabelZh: '门前堆放杂物',
    itemLabelEn: 'Clutter in front',
    due: '2025-05-20',
    state: 'open',
    overdue: false,
    beforePhotos: [],
    afterPhotos: [],
    ...p,
  });

  it('computes dates: today, seven days later, across months and years', () => {
    expect(localDate(NOW)).toBe('2025-05-20');
    expect(defaultDue(NOW)).toBe('2025-05-27');
    expect(addDays('2025-12-29', 7)).toBe('2026-01-05');
    expect(addDays('2024-02-27', 2)).toBe('2024-02-29');
    expect(daysBetween('2025-05-20', '2025-05-18')).toBe(-2);
  });

  it('marks overdue: past due and still to do, or marked by the phone', () => {
    expect(isOverdue(r({ due: '2025-05-19' }), '2025-05-20')).toBe(true);
    expect(isOverdue(r({ due: '2025-05-20' }), '2025-05-20')).toBe(false);
    expect(isOverdue(r({ due: '2025-05-25', overdue: true }), '2025-05-20')).toBe(true);
    expect(isOverdue(r({ due: '2025-05-01', state: 'submitted' }), '2025-05-20')).toBe(false);
    expect(isOverdue(r({ due: '2025-05-01', state: 'rejected' }), '2025-05-20')).toBe(true);
  });

  it('sorts to-do first by due date, submitted ones last', () => {
    const rows = sortRectifications(
      [
        r({ id: 'later', due: '2025-06-01' }),
        r({ id: 'done', due: '2025-05-01', state: 'submitted' }),
        r({ id: 'overdue', due: '2025-05-10' }),
        r({ id: 'soon', due: '2025-05-22', state: 'rejected' }),
      ],
      '2025-05-20',
    );
    expect(rows.map((x) => x.item.id)).toEqual(['overdue', 'soon', 'later', 'done']);
    expect(rows.map((x) => x.overdue)).toEqual([true, false, false, false]);
    expect(rows[0].daysLeft).toBe(-10);
  });
});

describe('base64', () => {
  it('encodes bytes as standard base64, like Node does', () => {
    expect(bytesToBase64(new Uint8Array([]))).toBe('');
    expect(bytesToBase64(new Uint8Array([0xff, 0xd8, 0xff]))).toBe('/9j/');
    expect(bytesToBase64(new TextEncoder().encode('村洁'))).toBe(Buffer.from('村洁').toString('base64'));
    const big = new Uint8Array(200000).map((_, i) => (i * 31) & 0xff);
    expect(bytesToBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });

  it('reads a picked file', async () => {
    const blob = new Blob([new Uint8Array([1, 2, 3, 250])]);
    expect(await fileToBase64(blob)).toBe('AQID+g==');
  });
});

describe('i18n', () => {
  it('falls back to Chinese when an English string is missing', () => {
    const table = { 'zh-CN': { 'sync.now': '立即同步', 'app.name': '村洁' }, en: { 'app.name': 'Cunjie' } } as Parameters<typeof tr>[3];
    expect(tr('en', 'app.name', undefined, table)).toBe('Cunjie');
    expect(tr('en', 'sync.now', undefined, table)).toBe('立即同步');
  });

  it('fills variables, follows the language from settings, and picks labels', () => {
    expect(tr('zh-CN', 'time.minutesAgo', { n: 3 })).toBe('3分钟前');
    setLanguage('en');
    expect(t('sync.now')).toBe('Sync now');
    expect(pick('合格', 'Pass')).toBe('Pass');
    expect(pick('合格', '')).toBe('合格');
    setLanguage('fr');
    expect(t('sync.now')).toBe('立即同步');
    expect(toLang(null)).toBe('zh-CN');
    setLanguage('zh-CN');
  });

  it('has no English string without a Chinese one', async () => {
    const keys = ['sync.now', 'round.finish', 'settings.fixed'] as Key[];
    for (const k of keys) expect(tr('zh-CN', k)).not.toBe(k);
  });
});

describe('background sync', () => {
  it('joins a sync already running instead of starting another', async () => {
    let release!: (v: number) => void;
    const run = vi.fn(() => new Promise<number>((r) => (release = r)));
    const s = createSyncRunner(run);
    const a = s.trigger();
    const b = s.trigger();
    expect(run).toHaveBeenCalledTimes(1);
    expect(s.running()).toBe(true);
    release(7);
    expect(await a).toBe(7);
    expect(await b).toBe(7);
    expect(s.running()).toBe(false);
    s.trigger();
    expect(run).toHaveBeenCalledTimes(2);
    release(8);
  });

  it('starts again after a failed sync', async () => {
    const run = vi.fn().mockRejectedValueOnce(new Error('x')).mockResolvedValueOnce(1);
    const s = createSyncRunner(run);
    await expect(s.trigger()).rejects.toThrow('x');
    expect(await s.trigger()).toBe(1);
  });
});
