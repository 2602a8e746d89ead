import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../lib/app';
import { fileToBase64 } from '../lib/base64';
import { t } from '../lib/i18n';
import { ipc } from '../lib/ipc';
import { Icon } from './Icon';

/**
 * A camera button: `<input type="file" accept="image/*" capture="environment">` laid over a big
 * button (never a gallery picker for evidence). The photo is kept only when `onPhoto` returns;
 * a spinner shows until then, and an error goes to the banner.
 */
export function PhotoInput(props: {
  testid: string;
  label: string;
  onPhoto: (base64: string) => Promise<unknown>;
  disabled?: boolean;
  primary?: boolean;
}) {
  const app = useApp();
  const [saving, setSaving] = useState(false);
  const onChange = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files && input.files[0];
    if (!file) return;
    setSaving(true);
    try {
      const b64 = await fileToBase64(file);
      await props.onPhoto(b64);
    } catch (err) {
      app.showError(err);
    } finally {
      setSaving(false);
      try {
        input.value = '';
      } catch {
        // some webviews refuse; harmless
      }
    }
  };
  const off = props.disabled || saving;
  return (
    <label class={'btn photo' + (props.primary ? ' btn-primary' : '') + (off ? ' disabled' : '')} aria-busy={saving}>
      {saving ? <span class="spinner" aria-hidden="true" /> : <Icon name="camera" />}
      <span>{saving ? t('common.saving') : props.label}</span>
      <input
        type="file"
        accept="image/*"
        capture="environment"
        data-testid={props.testid}
        disabled={off}
        onChange={onChange}
      />
    </label>
  );
}

const thumbs = new Map<string, Promise<string>>();

/** A photo's thumbnail from the phone's store. */
export function Thumb({ sha, label }: { sha: string; label?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let p = thumbs.get(sha);
    if (!p) {
      p = ipc.photoThumbnail(sha);
      thumbs.set(sha, p);
      p.catch(() => thumbs.delete(sha));
    }
    p.then(
      (u) => live && setUrl(u),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [sha]);
  return url ? (
    <img class="thumb" src={url} alt={label ?? ''} data-testid={'thumb-' + sha.slice(0, 12)} />
  ) : (
    <span class="thumb thumb-empty" aria-hidden="true" />
  );
}
