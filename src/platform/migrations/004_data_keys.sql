-- Envelope encryption (src/platform/envelope.ts): each tenant's data key, a random AES-256 key that
-- seals its most sensitive values at rest (要配慮個人情報 in the broker). The key itself is stored
-- only wrapped: sealed with AES-256-GCM under a master key from the configuration, which
-- `master_key_id` names by fingerprint, so that a master key can be rotated by rewrapping these rows
-- alone, without touching the data. A row is never deleted: the data it seals would be lost.
create table platform.data_keys (
  tenant_id text not null references platform.tenants (id),
  id integer not null check (id > 0),
  wrapped text not null,
  master_key_id text not null,
  created_at timestamptz not null default now(),
  wrapped_at timestamptz not null default now(),
  primary key (tenant_id, id)
);

alter table platform.data_keys enable row level security;
create policy data_keys_tenant on platform.data_keys
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update on platform.data_keys to machi_app;
