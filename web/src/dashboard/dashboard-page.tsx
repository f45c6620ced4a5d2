/** The public dashboard: for now, the local governments taking part in this Machi. */
import { formatDateTime } from '../shared/dates.ts';
import { useI18n } from '../shared/i18n.ts';
import { Layout } from '../shared/layout.tsx';
import { groupByPrefecture } from '../shared/tenants.ts';
import { TenantGroups } from './tenant-groups.tsx';
import { type TenantsState, useTenants } from './use-tenants.ts';

export function DashboardPage() {
  const { t } = useI18n();
  const { state, reload } = useTenants();
  return (
    <Layout page="dashboard">
      <div class="intro">
        <h1>{t('dashboard.heading')}</h1>
        <p class="lead">{t('dashboard.lead')}</p>
      </div>

      <section aria-labelledby="tenants-heading">
        <h2 id="tenants-heading">{t('dashboard.tenants.heading')}</h2>
        <TenantsContent state={state} reload={reload} />
      </section>
    </Layout>
  );
}

function TenantsContent({ state, reload }: { state: TenantsState; reload: () => void }) {
  const { t, lang } = useI18n();
  if (state.status === 'loading') {
    return (
      <p class="status" role="status">
        {t('dashboard.tenants.loading')}
      </p>
    );
  }
  if (state.status === 'failed') {
    return (
      <div class="panel panel--error" role="alert">
        <p>{t('dashboard.tenants.error')}</p>
        <button type="button" class="button button--secondary" onClick={reload}>
          {t('dashboard.tenants.retry')}
        </button>
      </div>
    );
  }
  const groups = groupByPrefecture(state.tenants);
  if (groups.length === 0) return <p class="status">{t('dashboard.tenants.empty')}</p>;
  const municipalityCount = state.tenants.filter((tenant) => tenant.kind !== 'prefecture').length;
  return (
    <>
      <p class="meta">
        <span>{t('dashboard.tenants.summary', { count: municipalityCount })}</span>
        <span>{t('dashboard.tenants.asOf', { time: formatDateTime(state.fetchedAt, lang) })}</span>
      </p>
      <TenantGroups groups={groups} />
    </>
  );
}
