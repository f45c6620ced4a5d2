-- Passkeys (WebAuthn discoverable credentials) of residents: the public key only, never anything
-- that could sign. `counter` is the authenticator's signature counter (0 for most synced passkeys):
-- an assertion whose counter does not grow is refused, since it points to a cloned authenticator.
create table identity.passkeys (
  id uuid primary key default gen_random_uuid(),
  -- The credential ID as the browser reports it (base64url); unique across every account.
  credential_id text not null unique,
  account_id uuid not null references identity.accounts (id) on delete cascade,
  public_key bytea not null,
  counter bigint not null default 0,
  transports text[] not null default '{}',
  -- Whether the authenticator may copy the key to the resident's other devices (a synced passkey).
  backed_up boolean not null default false,
  -- The name the resident gave it ("my phone"), shown when they manage their passkeys.
  name text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
create index passkeys_account on identity.passkeys (account_id);

-- One-time WebAuthn challenges, shared by every API process: each belongs to one interaction and
-- one purpose (and, to register, one account) and is consumed by the statement that reads it.
create table identity.passkey_challenges (
  challenge text primary key,
  purpose text not null check (purpose in ('login', 'register')),
  interaction_uid text not null,
  account_id uuid references identity.accounts (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  consumed_at timestamptz,
  check ((purpose = 'register') = (account_id is not null))
);
-- The sweep deletes by age.
create index passkey_challenges_expires_at on identity.passkey_challenges (expires_at);
