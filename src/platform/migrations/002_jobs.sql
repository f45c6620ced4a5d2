-- The durable job queue every deferred action goes through (notifications, deliveries, imports).
-- At-least-once: a job is taken with FOR UPDATE SKIP LOCKED under a lease; a worker that dies
-- stops renewing the lease and another worker takes the job again once it has run out.
create table platform.jobs (
  id bigint generated always as identity primary key,
  queue text not null check (queue ~ '^[a-z][a-z0-9_.-]*$'),
  tenant_id text references platform.tenants (id),
  payload jsonb not null default '{}'::jsonb,
  idempotency_key text,
  state text not null default 'pending' check (state in ('pending', 'running', 'done', 'dead')),
  attempts integer not null default 0,
  max_attempts integer not null default 10 check (max_attempts > 0),
  run_at timestamptz not null default now(),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
-- Enqueueing the same (queue, idempotency_key) twice for one tenant (or for the platform) gives back
-- the first job. Keys are per tenant: one municipality's key must neither block another's job nor
-- reveal that it exists, which a key unique across tenants would do under row-level security.
create unique index jobs_idempotency on platform.jobs (queue, coalesce(tenant_id, ''), idempotency_key)
  where idempotency_key is not null;
create index jobs_due on platform.jobs (run_at) where state = 'pending';
create index jobs_leased on platform.jobs (locked_until) where state = 'running';

-- A tenant's code may enqueue and watch its own jobs only; workers run as the owner.
alter table platform.jobs enable row level security;
create policy jobs_tenant on platform.jobs
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert on platform.jobs to machi_app;
