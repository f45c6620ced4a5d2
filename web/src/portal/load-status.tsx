/** What every My Page panel shows above its content: loading, a failure, and its last notice. */
import { useI18n } from '../shared/i18n.ts';
import type { Loaded } from './use-loaded.ts';

interface Props {
  state: Loaded<unknown>;
  message?: string | undefined;
  /** False where a panel above already says it is loading. */
  showLoading?: boolean;
}

export function LoadStatus({ state, message, showLoading = true }: Props) {
  const { t } = useI18n();
  return (
    <>
      {showLoading && state.status === 'loading' && <p role="status">{t('portal.loading')}</p>}
      {state.status === 'failed' && (
        <p class="form-error" role="alert">
          {state.detail ?? t('my.failed')}
        </p>
      )}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
    </>
  );
}
