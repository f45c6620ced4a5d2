/** Prefectures, each with a table of its participating municipalities and their codes. */
import { type Lang, useI18n } from '../shared/i18n.ts';
import type { PrefectureGroup, Tenant } from '../shared/tenants.ts';

/** The name in the reader's language, and the language it is actually written in. */
function displayName(tenant: Tenant, lang: Lang): { text: string; lang: Lang } {
  if (lang === 'en' && tenant.nameEn) return { text: tenant.nameEn, lang: 'en' };
  return { text: tenant.name, lang: 'ja' };
}

function TenantName({ tenant }: { tenant: Tenant }) {
  const { lang } = useI18n();
  const name = displayName(tenant, lang);
  return <span lang={name.lang === lang ? undefined : name.lang}>{name.text}</span>;
}

export function TenantGroups({ groups }: { groups: PrefectureGroup[] }) {
  return (
    <div class="tenant-groups">
      {groups.map((group) => (
        <TenantGroup key={group.prefecture?.code ?? 'other'} group={group} />
      ))}
    </div>
  );
}

function TenantGroup({ group }: { group: PrefectureGroup }) {
  const { t } = useI18n();
  const { prefecture, municipalities } = group;
  const headingId = `tenants-${prefecture?.code ?? 'other'}`;
  return (
    <section class="tenant-group" aria-labelledby={headingId}>
      <div class="tenant-group__header">
        <h3 id={headingId}>
          {prefecture ? <TenantName tenant={prefecture} /> : t('dashboard.tenants.other')}
        </h3>
        {prefecture && (
          <p class="tenant-group__code">{t('dashboard.tenants.prefectureCode', { code: prefecture.code })}</p>
        )}
      </div>
      {municipalities.length === 0 ? (
        <p>{t('dashboard.tenants.noMunicipalities')}</p>
      ) : (
        <table class="tenant-table" aria-labelledby={headingId}>
          <thead>
            <tr>
              <th scope="col">{t('dashboard.tenants.columnName')}</th>
              <th scope="col">{t('dashboard.tenants.columnCode')}</th>
            </tr>
          </thead>
          <tbody>
            {municipalities.map((municipality) => (
              <tr key={municipality.code}>
                <th scope="row">
                  <TenantName tenant={municipality} />
                </th>
                <td class="code">{municipality.code}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
