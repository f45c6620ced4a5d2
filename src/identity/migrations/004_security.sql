-- Security building blocks of identity: the audit trail, brute-force counters, TOTP second factors.
-- None of them is tenant-owned (an account spans municipalities); an audit event may name the tenant
-- it concerns, and row-level security keeps a tenant's transaction to its own.

-- Who did what, when, from where. Append-only for the application role: it may add events from
-- inside a tenant's transaction, but neither read other tenants' events there nor alter any.
-- account_id has no foreign key on purpose: the trail outlives a deleted account.
create table identity.audit_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  kind text not null,
  outcome text not null check (outcome in ('success', 'failure')),
  account_id uuid,
  client_id text,
  tenant_id text,
  ip text,
  detail jsonb not null default '{}'
);
create index audit_events_account on identity.audit_events (account_id, id desc) where account_id is not null;
-- `select (id)` only for `insert … returning id`.
grant insert, select (id) on identity.audit_events to machi_app;
alter table identity.audit_events enable row level security;
create policy audit_events_tenant on identity.audit_events
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id is null or tenant_id = current_setting('machi.tenant_id', true));
grant usage on sequence identity.audit_events_id_seq to machi_app;

-- Failed logins per key ('account:<e-mail or id>', 'ip:<address or IPv6 /64>'), shared by every
-- API process. `lockouts` counts the locks since the key was last forgiven, so each lock is longer.
create table identity.login_throttle (
  key text primary key,
  failures integer not null,
  first_failure_at timestamptz not null,
  last_failure_at timestamptz not null,
  locked_until timestamptz,
  lockouts integer not null default 0
);
grant select, insert, update, delete on identity.login_throttle to machi_app;

-- One TOTP authenticator per account. The seed is sealed by the deployment's secret box, so a
-- database dump alone cannot mint codes; last_step refuses a code used once already (replay).
create table identity.totp_factors (
  account_id uuid primary key references identity.accounts (id) on delete cascade,
  secret_sealed text not null,
  confirmed_at timestamptz,
  last_step bigint,
  created_at timestamptz not null default now()
);
grant select, insert, update, delete on identity.totp_factors to machi_app;
