/** Loads the tenant list once on mount, and again on `reload()`; a request still running is abandoned. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { fetchTenants, type Tenant } from '../shared/tenants.ts';

export type TenantsState =
  | { status: 'loading' }
  | { status: 'failed' }
  | { status: 'loaded'; tenants: Tenant[]; fetchedAt: Date };

export function useTenants(): { state: TenantsState; reload: () => void } {
  const [state, setState] = useState<TenantsState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState({ status: 'loading' });
    fetchTenants(controller.signal).then(
      (tenants) => setState({ status: 'loaded', tenants, fetchedAt: new Date() }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        console.error('Loading the tenant list failed:', error);
        setState({ status: 'failed' });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { state, reload };
}
