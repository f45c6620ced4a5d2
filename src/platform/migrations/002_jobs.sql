-- The durable job queue every deferred action goes through (notifications, deliveries, imports).
-- At-least-once: a job is taken with FOR UPDATE SKIP LOCKED under a lease; a worker that dies
-- stops renewing the lease and another worker takes the job again once it has run out.
create table platform.jobs (
  id bigint generated always as identity primary key,
  queue text not null check (queue ~ '^[a-z][a-z0-9_.-]*$'),
  tenant_id text references platform.tenants (id),
  payload jsonb not null default '{}'::jsonb,
  -- Enqueueing the same (queue, idempotency_key) twice gives back the first job.
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
  finished_at timestamptz,
  unique (queue, idempotency_key)
);
create index jobs_due on platform.jobs (run_at) where state = 'pending';
create index jobs_leased on platform.jobs (locked_until) where state = 'running';

-- A tenant's code may enqueue and watch its own jobs only; workers run as the owner.
alter table platform.jobs enable row level security;
create policy jobs_tenant on platform.jobs
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert on platform.jobs to machi_app;
