-- My Number Cards bound to accounts, by a hash of the user certificate's issuer and serial number
-- (jpki/verify.ts); never the certificate, never a My Number. A renewed card has a new serial, so it
-- is bound again after the resident logs in another way; an account may hold several bindings.
create table identity.card_bindings (
  binding_hash text primary key,
  account_id uuid not null references identity.accounts (id) on delete cascade,
  bound_at timestamptz not null default now(),
  last_used_at timestamptz
);
create index card_bindings_account on identity.card_bindings (account_id);
