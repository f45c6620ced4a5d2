-- Self-service accounts: residents who registered themselves, and the single-use links mailed to
-- them (e-mail verification, password reset). None of it is tenant-owned: an account spans
-- municipalities, and a resident uses these pages before any municipality is chosen.

-- A resident who registered on /account/register, with the terms they agreed to. Such an account
-- cannot log in until its e-mail address is verified; accounts made by the operator or the demo
-- have no row here and are not held back.
create table identity.self_registrations (
  account_id uuid primary key references identity.accounts (id) on delete cascade,
  registered_at timestamptz not null default now(),
  terms_version text not null
);
grant select, insert, update, delete on identity.self_registrations to machi_app;

-- Links mailed to a resident. Only the SHA-256 of the token is kept (hex), so a database dump
-- cannot be used to verify an address or take over an account; the token itself exists only in
-- the mail. Consuming one sets used_at in the statement that checks it, so each link works once.
create table identity.account_tokens (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  account_id uuid not null references identity.accounts (id) on delete cascade,
  purpose text not null check (purpose in ('verify-email', 'reset-password')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index account_tokens_account on identity.account_tokens (account_id, purpose);
-- The sweep deletes by age.
create index account_tokens_expires_at on identity.account_tokens (expires_at);
grant select, insert, update, delete on identity.account_tokens to machi_app;

-- A password reset or a deletion ends the account's sessions and tokens, found by this.
create index oidc_models_account on identity.oidc_models ((payload ->> 'accountId'));
