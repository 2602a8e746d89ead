// Test-only: a fake `window.__TAURI__` whose commands are answered by a table of handlers.
// Never imported by the app (so never in the bundle).
import { vi } from 'vitest';
import type { AppStatus, ChecklistItem, HouseholdItem, InspectionView, SyncBadge } from '../lib/ipc';

export type Handler = (args: Record<string, unknown>) => unknown;

export function installTauri(handlers: Record<string, Handler>) {
  const invoke = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
    const h = handlers[cmd];
    if (!h) throw { code: 'not_mocked', message: '未模拟的命令 ' + cmd };
    return h(args ?? {});
  });
  (window as unknown as { __TAURI__: unknown }).__TAURI__ = { core: { invoke } };
  return invoke;
}

export function uninstallTauri() {
  delete (window as unknown as { __TAURI__?: unknown }).__TAURI__;
}

export function badge(p: Partial<SyncBadge> = {}): SyncBadge {
  return {
    pendingRecords: 0,
    pendingPhotos: 0,
    photoBytesRemaining: 0,
    lastSuccess: null,
    lastErrorZh: null,
    syncing: false,
    needsReenroll: false,
    ...p,
  };
}

export function status(p: Partial<AppStatus> = {}): AppStatus {
  return {
    enrolled: true,
    personName: '李明',
    role: 'INSPECTOR',
    townshipName: '桐木镇',
    serverUrl: 'http://127.0.0.1:8080',
    sync: badge(),
    settings: { language: 'zh-CN', photoLongEdge: 1600, fixedPosition: null },
    ...p,
  };
}

/** A household of the inspector's list (pass `kind: 'business'` and a type for a business). */
export function household(id: string, p: Partial<HouseholdItem> = {}): HouseholdItem {
  return {
    id,
    kind: 'household',
    businessTypeZh: null,
    businessTypeEn: null,
    doorPlate: '太平村' + id + '号',
    headName: '王' + id,
    villageName: '太平村',
    groupName: '1组',
    distanceM: null,
    inspectedThisMonth: false,
    sampledThisMonth: false,
    ...p,
  };
}

export function item(p: Partial<ChecklistItem> = {}): ChecklistItem {
  return {
    code: 'A1',
    labelZh: '门前无垃圾',
    labelEn: 'No litter in front',
    section: '门前三包',
    sectionEn: 'Frontage',
    deduction: '10.00',
    outcome: null,
    count: 1,
    perUnit: false,
    naAllowed: false,
    photoOnFail: true,
    noteOnFail: false,
    note: null,
    photos: [],
    ...p,
  };
}

export function inspection(p: Partial<InspectionView> = {}): InspectionView {
  return {
    id: 'insp-1',
    subjectLabel: '太平村12号 王大',
    subjectId: 'hh-1',
    templateName: '门前三包月检',
    templateNameEn: 'Monthly frontage check',
    unit: 'points',
    items: [item()],
    score: '100.00',
    full: '100.00',
    deductions: [],
    issues: [],
    submitted: false,
    ...p,
  };
}

/** Lets promises and effects run. */
export async function flush(times = 5) {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}

export function byTestId(root: ParentNode, id: string): HTMLElement {
  const el = root.querySelector(`[data-testid="${id}"]`);
  if (!el) throw new Error('no element with data-testid ' + id);
  return el as HTMLElement;
}

export function type(el: HTMLElement, value: string) {
  (el as HTMLInputElement).value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

/** Chooses a photo in a camera input (3 JPEG bytes, base64 `/9j/`), as the camera would. */
export function choosePhoto(input: HTMLElement) {
  Object.defineProperty(input, 'files', { value: [new File([new Uint8Array([0xff, 0xd8, 0xff])], 'p.jpg')], configurable: true });
  input.dispatchEvent(new Event('change', { bubbles: true }));
}
