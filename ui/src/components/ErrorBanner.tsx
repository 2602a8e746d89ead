import { t } from '../lib/i18n';
import type { IpcError } from '../lib/ipc';

/** The red banner: the message exactly as the Rust side gave it. */
export function ErrorBanner({ error, onDismiss }: { error: IpcError | null; onDismiss: () => void }) {
  if (!error) return null;
  return (
    <div class="banner" role="alert" data-testid="error-banner" data-code={error.code}>
      <p class="banner-msg">{error.message}</p>
      <button type="button" class="btn btn-small btn-light" data-testid="error-dismiss" onClick={onDismiss}>
        {t('common.dismiss')}
      </button>
    </div>
  );
}
