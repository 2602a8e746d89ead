import { useState } from 'preact/hooks';
import { useApp } from '../lib/app';
import { t } from '../lib/i18n';
import { ipc, type Position, type Settings } from '../lib/ipc';

declare const __APP_VERSION__: string;

/** Parses the three typed numbers of the demo position; null when they are not a position. */
export function parseFixed(lat: string, lon: string, acc: string): Position | null {
  const la = Number(lat.trim());
  const lo = Number(lon.trim());
  const ac = acc.trim() === '' ? 10 : Number(acc.trim());
  if (lat.trim() === '' || lon.trim() === '') return null;
  if (!isFinite(la) || !isFinite(lo) || !isFinite(ac)) return null;
  if (Math.abs(la) > 90 || Math.abs(lo) > 180 || ac <= 0) return null;
  if (la === 0 && lo === 0) return null;
  return { lat: la, lon: lo, accuracyM: ac };
}

export function SettingsScreen() {
  const app = useApp();
  const s = app.settings;
  const fp = s.fixedPosition;
  const [lat, setLat] = useState(fp ? String(fp.lat) : '');
  const [lon, setLon] = useState(fp ? String(fp.lon) : '');
  const [acc, setAcc] = useState(fp ? String(fp.accuracyM) : '');
  const [bad, setBad] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);

  const save = async (patch: Partial<Settings>) => {
    setBusy(true);
    try {
      app.setStatus(await ipc.saveSettings({ ...s, ...patch }));
      return true;
    } catch (e) {
      app.showError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const saveFixed = () => {
    if (!lat.trim() && !lon.trim()) {
      setBad(false);
      if (s.fixedPosition) save({ fixedPosition: null });
      return;
    }
    const p = parseFixed(lat, lon, acc);
    setBad(!p);
    if (p) save({ fixedPosition: p });
  };

  const clearFixed = () => {
    setLat('');
    setLon('');
    setAcc('');
    setBad(false);
    save({ fixedPosition: null });
  };

  const signOut = async () => {
    setBusy(true);
    app.clearError();
    try {
      const st = await ipc.signOut();
      app.setStatus(st);
      app.navigate({ name: 'home' }, true);
    } catch (e) {
      app.showError(e);
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  };

  const role = app.status.role;
  return (
    <div class="screen">
      <h1 data-testid="settings-title">{t('settings.title')}</h1>
      <p data-testid="settings-who">
        {t('settings.who', {
          name: app.status.personName ?? '',
          role: role ? t(role === 'CLEANER' ? 'role.CLEANER' : 'role.INSPECTOR') : '',
          township: app.status.townshipName ?? '',
        })}
      </p>

      <section class="card">
        <h2>{t('settings.language')}</h2>
        <div class="seg seg-2" data-testid="settings-language" role="group">
          {[
            ['zh-CN', '中文'],
            ['en', 'English'],
          ].map(([code, label]) => (
            <button
              type="button"
              key={code}
              class={'btn seg-btn' + (s.language === code ? ' on' : '')}
              aria-pressed={s.language === code}
              data-testid={'settings-language-' + code}
              disabled={busy}
              onClick={() => s.language !== code && save({ language: code })}
            >
              {label}
            </button>
          ))}
        </div>
      </section>

      <section class="card">
        <h2>{t('settings.photo')}</h2>
        <div class="seg seg-2" data-testid="settings-photo" role="group">
          {([
            [1600, 'settings.photo1600'],
            [1024, 'settings.photo1024'],
          ] as const).map(([edge, key]) => (
            <button
              type="button"
              key={edge}
              class={'btn seg-btn' + (s.photoLongEdge === edge ? ' on' : '')}
              aria-pressed={s.photoLongEdge === edge}
              data-testid={'settings-photo-' + edge}
              disabled={busy}
              onClick={() => s.photoLongEdge !== edge && save({ photoLongEdge: edge })}
            >
              {t(key)}
            </button>
          ))}
        </div>
      </section>

      <section class="card">
        <h2>{t('settings.server')}</h2>
        <p class="mono" data-testid="settings-server">
          {app.status.serverUrl ?? '—'}
        </p>
      </section>

      <section class="card card-demo" data-testid="settings-fixed">
        <h2>{t('settings.fixed')}</h2>
        <p class="muted">{t('settings.fixedHint')}</p>
        <p data-testid="settings-fixed-current">
          {fp ? `${fp.lat}, ${fp.lon} ±${fp.accuracyM} m` : t('settings.fixedNone')}
        </p>
        <div class="three">
          <label class="field">
            <span>{t('settings.lat')}</span>
            <input type="text" inputMode="decimal" data-testid="settings-fixed-lat" value={lat} onInput={(e) => setLat((e.currentTarget as HTMLInputElement).value)} onChange={saveFixed} />
          </label>
          <label class="field">
            <span>{t('settings.lon')}</span>
            <input type="text" inputMode="decimal" data-testid="settings-fixed-lon" value={lon} onInput={(e) => setLon((e.currentTarget as HTMLInputElement).value)} onChange={saveFixed} />
          </label>
          <label class="field">
            <span>{t('settings.acc')}</span>
            <input type="text" inputMode="decimal" data-testid="settings-fixed-acc" value={acc} placeholder="10" onInput={(e) => setAcc((e.currentTarget as HTMLInputElement).value)} onChange={saveFixed} />
          </label>
        </div>
        {bad && <p class="bad-text">{t('settings.fixedBad')}</p>}
        {fp && (
          <button type="button" class="btn btn-block" data-testid="settings-fixed-clear" onClick={clearFixed}>
            {t('settings.fixedClear')}
          </button>
        )}
      </section>

      <section class="card">
        {confirm ? (
          <div class="two">
            <button type="button" class="btn" data-testid="settings-signout-cancel" onClick={() => setConfirm(false)}>
              {t('common.cancel')}
            </button>
            <button type="button" class="btn btn-danger" data-testid="settings-signout-confirm" disabled={busy} onClick={signOut}>
              {t('settings.signoutConfirm')}
            </button>
          </div>
        ) : (
          <button type="button" class="btn btn-block btn-danger-outline" data-testid="settings-signout" onClick={() => setConfirm(true)}>
            {t('settings.signout')}
          </button>
        )}
      </section>
      <p class="muted center-text">{t('settings.version', { v: __APP_VERSION__ })}</p>
    </div>
  );
}
