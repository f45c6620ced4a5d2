-- How a tenant classes its entity types for access (see src/broker/authorise.ts):
--   public    readable by anyone, without a token (open data: 公共施設, 指定緊急避難場所, AED …)
--   personal  residents' personal data: reachable only with a token and the resident's consent
-- A type with no row is neither: readable and writable with a token (or by anyone on a loopback
-- Machi with MACHI_AUTH=off). Types are expanded IRIs. The classes are the tenant's own decision
-- about its own data, so the table is tenant-owned under row-level security like the entities.
create table broker.type_access (
  tenant_id text not null references platform.tenants (id),
  type text not null,
  access text not null check (access in ('public', 'personal')),
  modified_at timestamptz not null default now(),
  primary key (tenant_id, type)
);

alter table broker.type_access enable row level security;
create policy type_access_tenant on broker.type_access
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update, delete on broker.type_access to machi_app;

-- Who created a subscription (the subject of its bearer token; null for an anonymous caller), so
-- that every notification is authorised as a read by that caller at the time it is sent.
alter table broker.subscriptions add column owner text;
