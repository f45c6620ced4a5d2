-- One-time challenges of My Number Card login (JPKI 利用者証明用電子証明書): the card signs one,
-- and the verifier marks it consumed in the same statement that reads it, so each signature logs
-- in at most once. Not tenant-owned: a resident logs in before any municipality is chosen.
create table identity.jpki_challenges (
  id uuid primary key default gen_random_uuid(),
  challenge bytea not null check (octet_length(challenge) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  consumed_at timestamptz
);
-- The sweep deletes by age.
create index jpki_challenges_expires_at on identity.jpki_challenges (expires_at);
grant select, insert, update, delete on identity.jpki_challenges to machi_app;
