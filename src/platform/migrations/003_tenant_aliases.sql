-- Registered aliases of tenants (sendai, ichikawa): other names a client may give as NGSILD-Tenant
-- (or wherever a tenant is named), always resolved to the tenant's 全国地方公共団体コード before use.
-- Like platform.tenants this is reference data, a code list every tenant reads: an alias is looked up
-- before any tenant is known, so it has no tenant_id column and no row-level security (on Citus it
-- would be a reference table). An alias is a lowercase ASCII slug that starts with a letter, so it
-- can never be mistaken for a 6-digit code; it names one tenant for good (aliases are not reassigned).
create table platform.tenant_aliases (
  alias text primary key
    check (alias ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' and length(alias) between 2 and 63),
  code text not null references platform.tenants (id),
  created_at timestamptz not null default now()
);
create index tenant_aliases_code on platform.tenant_aliases (code);
grant select on platform.tenant_aliases to machi_app;
