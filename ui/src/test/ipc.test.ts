import { afterEach, describe, expect, it } from 'vitest';
import { getPosition, ipc, toIpcError } from '../lib/ipc';
import { installTauri, uninstallTauri } from './mock';

afterEach(uninstallTauri);

describe('ipc', () => {
  it('calls each command by its snake_case name with camelCase argument keys', async () => {
    const invoke = installTauri({
      households: () => [],
      record_checkpoint: () => ({}),
      close_rectification: () => ({}),
      answer_item: () => ({}),
      save_settings: () => ({}),
    });
    const p = { lat: 27.6, lon: 113.8, accuracyM: 6 };
    await ipc.households('王', p, 50);
    await ipc.recordCheckpoint('r1', 'f1', 'overflowing', null, null);
    await ipc.closeRectification('x1', 'AAAA', null, p);
    await ipc.answerItem('i1', 'A1', 'not_applicable', 1, null);
    await ipc.saveSettings({ language: 'en', photoLongEdge: 1024, fixedPosition: null });
    expect(invoke.mock.calls).toEqual([
      ['households', { query: '王', near: p, limit: 50 }],
      ['record_checkpoint', { roundId: 'r1', facilityId: 'f1', state: 'overflowing', photoBase64: null, position: null }],
      ['close_rectification', { id: 'x1', photoBase64: 'AAAA', note: null, position: p }],
      ['answer_item', { inspectionId: 'i1', itemCode: 'A1', outcome: 'not_applicable', count: 1, note: null }],
      ['save_settings', { settings: { language: 'en', photoLongEdge: 1024, fixedPosition: null } }],
    ]);
  });

  it('passes {code, message} errors through and wraps anything else', async () => {
    installTauri({
      sign_out: () => {
        throw { code: 'unsynced_data', message: '还有数据没有同步' };
      },
    });
    await expect(ipc.signOut()).rejects.toEqual({ code: 'unsynced_data', message: '还有数据没有同步' });
    expect(toIpcError('出错了')).toEqual({ code: 'unknown', message: '出错了' });
    expect(toIpcError(new Error('boom'))).toEqual({ code: 'unknown', message: 'boom' });
  });

  it('says so when there is no app backend (a plain browser)', async () => {
    await expect(ipc.appStatus()).rejects.toMatchObject({ code: 'no_backend' });
  });

  it('gets no position without a plugin or a fixed one, and never invents one', async () => {
    expect(await getPosition(null)).toBeNull();
    const fixed = { lat: 27.6, lon: 113.8, accuracyM: 6 };
    expect(await getPosition({ language: 'zh-CN', photoLongEdge: 1600, fixedPosition: fixed })).toEqual(fixed);
    (window as unknown as { __TAURI__: unknown }).__TAURI__ = {
      geolocation: { getCurrentPosition: async () => ({ coords: { latitude: 0, longitude: 0, accuracy: 0 } }) },
    };
    expect(await getPosition({ language: 'zh-CN', photoLongEdge: 1600, fixedPosition: fixed })).toBeNull();
  });
});
