-- The OpenID provider's state (oidc-provider models: sessions, grants, codes, tokens, interactions),
-- shared by every API process and kept across restarts. Rows past expires_at are dead to `find` and
-- swept by a job, since the library never deletes them.
create table identity.oidc_models (
  model text not null,
  id text not null,
  payload jsonb not null,
  grant_id text,
  uid text,
  user_code text,
  expires_at timestamptz,
  consumed_at timestamptz,
  primary key (model, id)
);
create index oidc_models_grant on identity.oidc_models (grant_id) where grant_id is not null;
create index oidc_models_uid on identity.oidc_models (uid) where uid is not null;
create index oidc_models_user_code on identity.oidc_models (user_code) where user_code is not null;
create index oidc_models_expires on identity.oidc_models (expires_at) where expires_at is not null;

-- Signing keys, private parts sealed with the master key. One `current` key signs; the `next` one is
-- published in the JWKS before it signs anything, so relying parties that cache the JWKS know it when
-- `machi keys rotate` promotes it; `retired` keys stay published until tokens they signed expire.
create table identity.signing_keys (
  kid text primary key,
  alg text not null,
  private_jwk_sealed text not null,
  state text not null check (state in ('next', 'current', 'retired')),
  created_at timestamptz not null default now(),
  promoted_at timestamptz,
  retired_at timestamptz
);
create unique index signing_keys_one_current on identity.signing_keys (state) where state = 'current';
create unique index signing_keys_one_next on identity.signing_keys (state) where state = 'next';

-- Relying parties (services such as telemedicine or the maternal-child handbook app), each registered
-- by the staff of one tenant (a municipality, or the prefecture for shared services).
create table identity.clients (
  id text primary key,
  tenant_id text not null references platform.tenants (id),
  name text not null,
  metadata jsonb not null,
  secret_sealed text,
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);
create index clients_tenant on identity.clients (tenant_id);
-- The provider reads every client by id (as the owner); a tenant's staff, working as machi_app,
-- see and change only their own.
alter table identity.clients enable row level security;
create policy clients_tenant on identity.clients
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update on identity.clients to machi_app;

alter table identity.accounts add column email_verified_at timestamptz;
