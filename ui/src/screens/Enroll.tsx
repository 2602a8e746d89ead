import { useState } from 'preact/hooks';
import { PhotoInput } from '../components/Photo';
import { useApp } from '../lib/app';
import { formatCode, isCompleteCode, normalizeCode, normalizeServer, parseEnrollText } from '../lib/enroll';
import { t, type Key } from '../lib/i18n';
import { ipc } from '../lib/ipc';

/** Server address and one-time code, typed or from the enrollment QR text. */
export function Enroll() {
  const app = useApp();
  const [qr, setQr] = useState('');
  const [qrNote, setQrNote] = useState<{ ok: boolean; key: Key } | null>(null);
  const [server, setServer] = useState(app.status.serverUrl ?? '');
  const [code, setCode] = useState('');
  const [deviceName, setDeviceName] = useState(t('enroll.deviceDefault'));
  const [busy, setBusy] = useState(false);

  const onQr = (text: string) => {
    setQr(text);
    if (!text.trim()) {
      setQrNote(null);
      return;
    }
    const p = parseEnrollText(text);
    if (p.ok) {
      if (p.server) setServer(p.server);
      setCode(formatCode(p.code));
      setQrNote({ ok: true, key: 'enroll.qrFilled' });
    } else {
      const key: Key =
        p.reason === 'missing_code' ? 'enroll.qrNoCode' : p.reason === 'bad_server' ? 'enroll.qrBadServer' : 'enroll.qrBad';
      setQrNote({ ok: false, key });
    }
  };

  const codeLen = normalizeCode(code).length;
  const ready = !!normalizeServer(server) && isCompleteCode(code) && !busy;

  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (!ready) return;
    setBusy(true);
    app.clearError();
    try {
      const s = await ipc.enroll(normalizeServer(server), normalizeCode(code), deviceName.trim() || t('enroll.deviceDefault'));
      app.setStatus(s);
      app.navigate({ name: 'home' }, true);
    } catch (err) {
      app.showError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="screen" onSubmit={submit} autocomplete="off" noValidate>
      <h1 data-testid="enroll-title">{t('enroll.title')}</h1>
      <p class="muted">{t('enroll.intro')}</p>

      <label class="field">
        <span>{t('enroll.qr')}</span>
        <textarea
          rows={2}
          data-testid="enroll-qr"
          value={qr}
          placeholder={t('enroll.qrHint')}
          spellcheck={false}
          autocapitalize="off"
          onInput={(e) => onQr((e.currentTarget as HTMLTextAreaElement).value)}
        />
        {qrNote && (
          <span class={qrNote.ok ? 'ok-text' : 'bad-text'} data-testid="enroll-qr-note">
            {t(qrNote.key)}
          </span>
        )}
      </label>
      <PhotoInput testid="enroll-qr-photo" label={t('enroll.qrPhoto')} onPhoto={async (b64) => onQr(await ipc.scanQr(b64))} />

      <label class="field">
        <span>{t('enroll.server')}</span>
        <input
          type="url"
          inputMode="url"
          data-testid="enroll-server"
          value={server}
          placeholder="http://192.168.1.10:8080"
          autocapitalize="off"
          spellcheck={false}
          onInput={(e) => setServer((e.currentTarget as HTMLInputElement).value)}
        />
      </label>

      <label class="field">
        <span>{t('enroll.code')}</span>
        <input
          type="text"
          class="code-input"
          data-testid="enroll-code"
          value={code}
          placeholder="ABCDE-FGHJK"
          autocapitalize="characters"
          spellcheck={false}
          maxLength={16}
          onInput={(e) => {
            const input = e.currentTarget as HTMLInputElement;
            const f = formatCode(input.value);
            setCode(f);
            input.value = f;
          }}
        />
        {codeLen > 0 && codeLen !== 10 && (
          <span class="muted" data-testid="enroll-code-count">
            {t('enroll.codeIncomplete', { n: codeLen })}
          </span>
        )}
      </label>

      <label class="field">
        <span>{t('enroll.deviceName')}</span>
        <input
          type="text"
          data-testid="enroll-device-name"
          value={deviceName}
          onInput={(e) => setDeviceName((e.currentTarget as HTMLInputElement).value)}
        />
      </label>

      <div class={'actionbar actionbar-solo' + (app.status.enrolled ? ' two' : '')}>
        {app.status.enrolled && (
          <button type="button" class="btn" data-testid="enroll-cancel" onClick={() => app.navigate({ name: 'home' }, true)}>
            {t('common.cancel')}
          </button>
        )}
        <button type="submit" class="btn btn-primary btn-block" data-testid="enroll-submit" disabled={!ready}>
          {busy ? t('enroll.working') : t('enroll.submit')}
        </button>
      </div>
    </form>
  );
}
