-- Access tokens ended because the resident withdrew their consent to the service
-- (oidc/revoke.ts revokeClientAccess), kept as the SHA-256 of the token (never the token) until
-- the token would have expired: a service still presenting one is refused like any unknown token,
-- and the attempt is recorded in the resident's access log, as withdrawing promises.
create table identity.withdrawn_tokens (
  token_sha256 text primary key check (token_sha256 ~ '^[0-9a-f]{64}$'),
  account_id uuid not null,
  client_id text not null,
  withdrawn_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index withdrawn_tokens_expiry on identity.withdrawn_tokens (expires_at);
