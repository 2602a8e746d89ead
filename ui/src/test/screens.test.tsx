import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../app';
import type { InspectionView } from '../lib/ipc';
import { badge, byTestId, choosePhoto, flush, inspection, installTauri, item, status, type, uninstallTauri } from './mock';

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

async function mount() {
  await act(async () => {
    render(<App />, root);
  });
  await settle();
}

/** Lets commands answer and the screen re-render, a few rounds over. */
async function settle() {
  for (let i = 0; i < 4; i++) await act(() => flush(3));
}

async function tap(id: string) {
  await act(async () => {
    byTestId(root, id).click();
  });
  await settle();
}

describe('enrollment screen', () => {
  it('fills server and code from the QR text and enrolls with them', async () => {
    const invoke = installTauri({
      app_status: () => status({ enrolled: false, personName: null, role: null, serverUrl: null }),
      enroll: () => status(),
      sync_now: () => badge({ lastSuccess: new Date().toISOString() }),
      households: () => [],
    });
    await mount();
    expect((byTestId(root, 'enroll-submit') as HTMLButtonElement).disabled).toBe(true);

    await act(async () => type(byTestId(root, 'enroll-qr'), 'cunjie://enroll?server=http://127.0.0.1:8080&code=abcde-fghjk'));
    expect((byTestId(root, 'enroll-server') as HTMLInputElement).value).toBe('http://127.0.0.1:8080');
    expect((byTestId(root, 'enroll-code') as HTMLInputElement).value).toBe('ABCDE-FGHJK');

    await tap('enroll-submit');
    expect(invoke).toHaveBeenCalledWith('enroll', { serverUrl: 'http://127.0.0.1:8080', code: 'ABCDEFGHJK', deviceName: '村洁手机' });
    // Enrolled: the home screen with the badge, and a first sync.
    expect(byTestId(root, 'sync-badge').textContent).toContain('全部已同步');
    expect(invoke).toHaveBeenCalledWith('sync_now', undefined);
    expect(root.querySelector('[data-testid="household-search"]')).not.toBeNull();
  });

  it('reads the enrollment QR from a photo, and says so when the photo has none', async () => {
    let answer: () => unknown = () => 'cunjie://enroll?server=http://10.0.0.2:8080&code=abcde-fghjk';
    const invoke = installTauri({
      app_status: () => status({ enrolled: false, personName: null, role: null, serverUrl: null }),
      scan_qr: () => answer(),
    });
    await mount();
    await act(async () => choosePhoto(byTestId(root, 'enroll-qr-photo')));
    await settle();
    expect(invoke).toHaveBeenCalledWith('scan_qr', { photoBase64: '/9j/' });
    expect((byTestId(root, 'enroll-server') as HTMLInputElement).value).toBe('http://10.0.0.2:8080');
    expect((byTestId(root, 'enroll-code') as HTMLInputElement).value).toBe('ABCDE-FGHJK');
    expect(byTestId(root, 'enroll-qr-note').textContent).toBe('已从二维码填好');

    answer = () => {
      throw { code: 'no_qr_code', message: '照片里没有认出二维码，请靠近一些、让二维码占满画面中间再拍一次' };
    };
    await act(async () => choosePhoto(byTestId(root, 'enroll-qr-photo')));
    await settle();
    expect(byTestId(root, 'error-banner').textContent).toContain('没有认出二维码');
    expect((byTestId(root, 'enroll-code') as HTMLInputElement).value).toBe('ABCDE-FGHJK');
  });

  it('shows a refused enrollment in the red banner and keeps what was typed', async () => {
    installTauri({
      app_status: () => status({ enrolled: false, role: null, serverUrl: null }),
      enroll: () => {
        throw { code: 'bad_code', message: '登记码不对或已过期' };
      },
    });
    await mount();
    await act(async () => type(byTestId(root, 'enroll-server'), '127.0.0.1:8080'));
    await act(async () => type(byTestId(root, 'enroll-code'), 'abcdefghjk'));
    await tap('enroll-submit');
    expect(byTestId(root, 'error-banner').textContent).toContain('登记码不对或已过期');
    expect((byTestId(root, 'enroll-code') as HTMLInputElement).value).toBe('ABCDE-FGHJK');
    expect((byTestId(root, 'enroll-server') as HTMLInputElement).value).toBe('127.0.0.1:8080');
  });
});

describe('inspection screen', () => {
  function backend(overrides: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
    let view: InspectionView = inspection({
      items: [
        item({ code: 'A1', photoOnFail: true }),
        item({ code: 'B2', labelZh: '院内整洁', perUnit: true, naAllowed: true, photoOnFail: false, noteOnFail: true }),
      ],
    });
    const calls: string[] = [];
    const invoke = installTauri({
      app_status: () => status(),
      sync_now: () => badge(),
      start_inspection: () => view,
      answer_item: (a) => {
        calls.push(`${a.itemCode}:${a.outcome}:${a.count}:${a.note}`);
        view = {
          ...view,
          items: view.items.map((i) =>
            i.code === a.itemCode ? { ...i, outcome: a.outcome as 'pass', count: a.count as number, note: a.note as string | null } : i,
          ),
        };
        return view;
      },
      attach_item_photo: (a) => {
        view = {
          ...view,
          score: '90.00',
          items: view.items.map((i) => (i.code === a.itemCode ? { ...i, outcome: 'fail', photos: ['ab'.repeat(32)] } : i)),
        };
        return view;
      },
      submit_inspection: () => (view = { ...view, submitted: true }),
      photo_thumbnail: () => 'data:image/jpeg;base64,/9j/',
      issue_rectification: (a) => ({
        id: 'r1',
        subjectLabel: view.subjectLabel,
        itemLabelZh: '门前无垃圾',
        due: a.due,
        state: 'open',
        overdue: false,
        beforePhotos: [],
        afterPhotos: [],
      }),
      ...overrides,
    });
    return { invoke, calls };
  }

  async function openInspection() {
    history.replaceState({ name: 'inspection', householdId: 'hh-1' }, '', '#/inspection/hh-1');
    await mount();
    await act(() => flush(10));
  }

  it('says 分 on a points checklist and 元 on the township’s yuan one', async () => {
    const ded = { code: 'A1', labelZh: '门前无垃圾', labelEn: 'No litter in front', units: 1, amount: '10.00' };
    backend({
      start_inspection: () =>
        inspection({ unit: 'yuan', score: '-10.00', full: '0.00', items: [item({ code: 'A1', outcome: 'fail' })], deductions: [ded] }),
    });
    await openInspection();
    expect(byTestId(root, 'item-A1').textContent).toContain('扣 10.00 元');
    expect(byTestId(root, 'deduction-A1').textContent).toContain('门前无垃圾');
    expect(byTestId(root, 'deduction-A1').textContent).toContain('−10.00 元');
    expect(byTestId(root, 'inspection-score').textContent).toBe('-10.00 元');
    await act(async () => render(null, root));
    uninstallTauri();

    backend({ start_inspection: () => inspection({ items: [item({ code: 'A1', outcome: 'fail' })], score: '90.00', deductions: [ded] }) });
    await openInspection();
    expect(byTestId(root, 'item-A1').textContent).toContain('扣 10.00 分');
    expect(byTestId(root, 'inspection-score').textContent).toBe('90.00/ 100.00 分');
  });

  it('shows the checklist, sections and deductions in English', async () => {
    const ded = { code: 'A1', labelZh: '门前无垃圾', labelEn: 'No litter in front', units: 2, amount: '20.00' };
    backend({
      app_status: () => status({ settings: { language: 'en', photoLongEdge: 1600, fixedPosition: null } }),
      start_inspection: () => inspection({ items: [item({ code: 'A1', outcome: 'fail', perUnit: true })], deductions: [ded] }),
    });
    await openInspection();
    expect(byTestId(root, 'inspection-template').textContent).toBe('Monthly frontage check');
    expect(root.querySelector('h2')?.textContent).toBe('Frontage');
    expect(byTestId(root, 'item-A1').textContent).toContain('No litter in front');
    expect(byTestId(root, 'item-A1').textContent).toContain('−10.00 pts each');
    expect(byTestId(root, 'deduction-A1').textContent).toBe('No litter in front × 2−20.00 pts');
  });

  it('answers, counts, takes a photo, submits, then issues a rectification', async () => {
    const { invoke, calls } = backend();
    await openInspection();
    expect(invoke).toHaveBeenCalledWith('start_inspection', { householdId: 'hh-1', position: null });
    expect(byTestId(root, 'inspection-score').textContent).toContain('100.00');
    expect((byTestId(root, 'inspection-submit') as HTMLButtonElement).disabled).toBe(true);
    // N/A only where allowed.
    expect(root.querySelector('[data-testid="item-A1-na"]')).toBeNull();
    expect(root.querySelector('[data-testid="item-B2-na"]')).not.toBeNull();

    await tap('item-A1-fail');
    expect(calls).toEqual(['A1:fail:1:null']);
    expect(byTestId(root, 'item-A1-needs').textContent).toContain('需要照片');

    // The camera: bytes → base64 → attach_item_photo.
    const input = byTestId(root, 'item-A1-photo') as HTMLInputElement;
    expect(input.getAttribute('capture')).toBe('environment');
    expect(input.getAttribute('accept')).toBe('image/*');
    await act(async () => choosePhoto(input));
    await act(() => flush(10));
    expect(invoke).toHaveBeenCalledWith('attach_item_photo', { inspectionId: 'insp-1', itemCode: 'A1', photoBase64: '/9j/', position: null });
    expect(byTestId(root, 'inspection-score').textContent).toContain('90.00');

    await tap('item-B2-fail');
    await tap('item-B2-count-plus');
    expect(calls.slice(1)).toEqual(['B2:fail:1:null', 'B2:fail:2:null']);
    expect(byTestId(root, 'item-B2-count').textContent).toBe('2');
    expect((byTestId(root, 'inspection-submit') as HTMLButtonElement).disabled).toBe(true); // B2 needs a note

    await act(async () => type(byTestId(root, 'item-B2-note'), '院内堆放杂物'));
    await act(async () => {
      byTestId(root, 'item-B2-note').dispatchEvent(new Event('blur'));
    });
    await act(() => flush(10));
    expect(calls[calls.length - 1]).toBe('B2:fail:2:院内堆放杂物');
    expect((byTestId(root, 'inspection-submit') as HTMLButtonElement).disabled).toBe(false);

    await tap('inspection-submit');
    expect(invoke).toHaveBeenCalledWith('submit_inspection', { inspectionId: 'insp-1' });
    expect(byTestId(root, 'inspection-submitted')).toBeTruthy();
    expect(invoke.mock.calls.filter((c) => c[0] === 'sync_now').length).toBeGreaterThanOrEqual(1);

    const due = (byTestId(root, 'rectify-A1-due') as HTMLInputElement).value;
    expect(due).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await tap('rectify-A1');
    expect(invoke).toHaveBeenCalledWith('issue_rectification', { inspectionId: 'insp-1', itemCode: 'A1', due });
    expect(byTestId(root, 'rectify-A1-done').textContent).toContain(due);
  });

  it('counts a note as typed at once, and saves it before submitting', async () => {
    const { invoke, calls } = backend();
    await openInspection();
    await tap('item-A1-pass');
    await tap('item-B2-fail');
    expect((byTestId(root, 'inspection-submit') as HTMLButtonElement).disabled).toBe(true);
    await act(async () => type(byTestId(root, 'item-B2-note'), '柴草乱堆'));
    // No blur, no wait: submit is allowed and the note goes before the submit.
    expect((byTestId(root, 'inspection-submit') as HTMLButtonElement).disabled).toBe(false);
    await tap('inspection-submit');
    expect(calls[calls.length - 1]).toBe('B2:fail:1:柴草乱堆');
    const names = invoke.mock.calls.map((c) => c[0]);
    expect(names.lastIndexOf('answer_item')).toBeLessThan(names.indexOf('submit_inspection'));
    expect(byTestId(root, 'inspection-submitted')).toBeTruthy();
  });

  it('shows an error in the red banner and keeps the checklist on screen', async () => {
    backend({
      answer_item: () => {
        throw { code: 'storage', message: '手机存储已满，请清理后再试' };
      },
    });
    await openInspection();
    await tap('item-A1-pass');
    expect(byTestId(root, 'error-banner').textContent).toContain('手机存储已满，请清理后再试');
    expect(byTestId(root, 'item-A1')).toBeTruthy();
    expect(byTestId(root, 'item-A1').getAttribute('data-outcome')).toBe('');
    await tap('error-dismiss');
    expect(root.querySelector('[data-testid="error-banner"]')).toBeNull();
  });
});

describe('cleaner and settings', () => {
  it('offers to resume a round left open when the app was killed', async () => {
    installTauri({
      app_status: () => status({ role: 'CLEANER' }),
      sync_now: () => badge(),
      open_rounds: () => [
        {
          id: 'round-1',
          zoneId: 'z1',
          zoneName: '太平村一组',
          startedAt: new Date().toISOString(),
          checkpoints: [{ facilityId: 'f1', number: 'TP-001', kindZh: '垃圾池', state: null, photos: [] }],
          problems: [],
          tracePoints: 3,
          coveragePct: 20,
          submitted: false,
        },
      ],
      my_zones: () => [{ id: 'z1', name: '太平村一组', checkpoints: [] }],
      record_position: () => {
        throw { code: 'x', message: 'x' };
      },
    });
    await mount();
    expect(byTestId(root, 'round-resume-round-1').textContent).toContain('继续巡查');
    expect(byTestId(root, 'zone-z1-start')).toBeTruthy();
    await tap('round-resume-round-1');
    expect(byTestId(root, 'checkpoint-f1-cleared')).toBeTruthy();
    expect(byTestId(root, 'round-gps').textContent).toContain('无定位');
  });

  it('says why sign-out is refused while data is unsynced', async () => {
    installTauri({
      app_status: () => status({ sync: badge({ pendingRecords: 2 }) }),
      sync_now: () => badge({ pendingRecords: 2, lastErrorZh: '连不上服务器' }),
      sign_out: () => {
        throw { code: 'unsynced_data', message: '还有 2 条记录没有同步，不能退出' };
      },
    });
    history.replaceState({ name: 'settings' }, '', '#/settings');
    await mount();
    expect(byTestId(root, 'sync-badge').textContent).toContain('待传 2 条记录');
    expect(byTestId(root, 'sync-error').textContent).toContain('连不上服务器');
    await tap("settings-signout");
    await tap('settings-signout-confirm');
    expect(byTestId(root, 'error-banner').textContent).toContain('还有 2 条记录没有同步，不能退出');
    expect(byTestId(root, 'settings-title')).toBeTruthy();
  });
});
