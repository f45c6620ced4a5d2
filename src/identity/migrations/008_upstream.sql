-- Logins through other OpenID providers (デジタル認証アプリ, LINE, one the operator configures).
-- An account is linked to an upstream subject once; a link is how the upstream login finds it.
create table identity.upstream_links (
  provider text not null,
  subject text not null,
  account_id uuid not null references identity.accounts (id) on delete cascade,
  linked_at timestamptz not null default now(),
  last_used_at timestamptz,
  primary key (provider, subject)
);
create index upstream_links_account on identity.upstream_links (account_id);

-- One authorization request in flight: PKCE verifier, state and nonce, and the interaction it
-- answers. Single use; the callback reads it by state and deletes it.
create table identity.upstream_requests (
  state text primary key,
  provider text not null,
  interaction_uid text not null,
  code_verifier text not null,
  nonce text not null,
  result jsonb,
  expires_at timestamptz not null
);

-- Claims an upstream provider verified (the My Number Card's 基本4情報 via デジタル認証アプリ), kept
-- per account and source so services can be told where a name or address was verified.
create table identity.verified_claims (
  account_id uuid not null references identity.accounts (id) on delete cascade,
  source text not null,
  claims jsonb not null,
  verified_at timestamptz not null default now(),
  primary key (account_id, source)
);

-- An account made through the card-backed upstream has no e-mail address until the resident adds one.
alter table identity.accounts alter column email drop not null;
