-- The access log (data tracker): every decision that touched a resident's personal data, allowed or
-- denied, appended to that resident's hash chain; signed checkpoints anchor the chains' heads, so a
-- cut-off tail is found as surely as an altered record (docs/access-log.md).
-- The log is personal data: tenant-owned, under row-level security, append-only for the application.

-- One row per decision. `hash` = SHA-256 of the record's canonical JSON, which includes `prev_hash`
-- (src/consent/access-log-hash.ts defines it). No foreign key to purposes or accounts: the log
-- outlives them, and records a denial for a purpose that does not exist as faithfully as any other.
create table consent.access_log (
  tenant_id text not null references platform.tenants (id),
  resident_id uuid not null,
  seq bigint not null check (seq > 0),
  -- Milliseconds: the time that was hashed, exactly (JavaScript's precision, not PostgreSQL's).
  at timestamptz not null check (at = date_trunc('milliseconds', at)),
  actor_kind text not null check (actor_kind in ('client', 'staff')),
  actor_id text not null check (actor_id <> ''),
  -- The service's or staff member's name as it was at the time.
  actor_name text not null,
  purpose text not null,
  categories text[] not null,
  entity_ids text[] not null,
  action text not null check (action in ('read', 'write', 'delete', 'export')),
  decision text not null check (decision in ('allow', 'deny')),
  reason text not null,
  prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  primary key (tenant_id, resident_id, seq)
);

-- The head of each resident's chain: the row an append locks (`for update`), so two processes
-- appending for one resident at once take turns instead of forking the chain. `anchored_seq` is the
-- head the last checkpoint signed; heads where it lags are the next checkpoint's work.
create table consent.access_log_heads (
  tenant_id text not null references platform.tenants (id),
  resident_id uuid not null,
  seq bigint not null check (seq >= 0),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  at timestamptz,
  anchored_seq bigint not null default 0,
  primary key (tenant_id, resident_id)
);
create index access_log_heads_unanchored on consent.access_log_heads (tenant_id, resident_id)
  where seq <> anchored_seq;

-- Signed checkpoints, a chain per tenant: each signs (JWS) the Merkle root of the heads that moved
-- since the one before, and the SHA-256 of the one before.
create table consent.access_checkpoints (
  tenant_id text not null references platform.tenants (id),
  seq bigint not null check (seq > 0),
  at timestamptz not null,
  root text not null check (root ~ '^[0-9a-f]{64}$'),
  heads integer not null check (heads > 0),
  jws text not null,
  primary key (tenant_id, seq)
);

-- The heads a checkpoint anchors: verifying finds each in the log with the same hash.
create table consent.access_checkpoint_heads (
  tenant_id text not null,
  checkpoint_seq bigint not null,
  resident_id uuid not null,
  seq bigint not null check (seq > 0),
  hash text not null check (hash ~ '^[0-9a-f]{64}$'),
  primary key (tenant_id, checkpoint_seq, resident_id),
  foreign key (tenant_id, checkpoint_seq) references consent.access_checkpoints (tenant_id, seq)
);

do $$
declare
  t text;
begin
  foreach t in array array['access_log', 'access_log_heads', 'access_checkpoints',
                           'access_checkpoint_heads'] loop
    execute format('alter table consent.%I enable row level security', t);
    execute format($p$create policy %I on consent.%I
      using (tenant_id = current_setting('machi.tenant_id', true))
      with check (tenant_id = current_setting('machi.tenant_id', true))$p$, t || '_tenant', t);
  end loop;
end $$;

-- The log and the checkpoints only grow; a head moves forward (update, never delete).
grant select, insert on consent.access_log, consent.access_checkpoints, consent.access_checkpoint_heads
  to machi_app;
grant select, insert, update on consent.access_log_heads to machi_app;
