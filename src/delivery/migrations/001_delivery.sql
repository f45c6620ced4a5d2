-- Delivery: the residents' notification inbox, their Web Push devices, the deployment's VAPID key
-- and the status of every push per device.
--
-- Who owns what. An inbox item is written by a municipality's change (a letter, an alert) inside
-- that municipality's transaction, and is that municipality's record of what it told the resident:
-- tenant-owned, tenant_id leading its keys, under row-level security. A device is the resident's
-- browser or phone, which receives from every municipality of the deployment, like the account
-- itself (identity.accounts): account-owned, deployment-wide, read and written by the owner role
-- only, always by account_id (on Citus it would be distributed by account, like the accounts).
create schema if not exists delivery;
grant usage on schema delivery to machi_app;

-- The deployment's VAPID key pair (RFC 8292), made once and never rotated: every subscription a
-- browser made is bound to this public key, so a new key would silence every device. The private
-- key is sealed with the deployment's master key (secret-box.ts, purpose delivery.vapid-private-key).
create table delivery.vapid_keys (
  one boolean primary key default true check (one),
  public_key text not null check (public_key ~ '^[A-Za-z0-9_-]{87}$'),
  private_key_sealed text not null,
  created_at timestamptz not null default now()
);

-- A resident's device: the browser's push subscription (RFC 8030 endpoint, RFC 8291 keys). The
-- endpoint is a capability URL and `auth` a shared secret: the secret is stored sealed, and neither
-- is ever shown back or logged. One endpoint belongs to one account: a browser's subscription moves
-- to the resident who registered it last (a shared computer must not show the previous resident's
-- notifications).
create table delivery.devices (
  account_id uuid not null references identity.accounts (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  endpoint text not null check (length(endpoint) <= 2048),
  p256dh text not null,
  auth_sealed text not null,
  label text check (length(label) <= 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The outcome of the last push to this device, for the resident's list of devices.
  last_status text check (last_status in ('sent', 'failed', 'gone', 'retrying')),
  last_status_at timestamptz,
  last_reason text,
  primary key (account_id, id)
);
create unique index devices_account_endpoint on delivery.devices (account_id, endpoint);
create index devices_endpoint on delivery.devices (endpoint);

-- The inbox item. `seq` orders the resident's inbox across municipalities (newest first) and is its
-- paging cursor; the idempotency key is the caller's, per resident, so one event notifies each
-- resident once however often it is retried.
create table delivery.notifications (
  tenant_id text not null references platform.tenants (id),
  id uuid not null default gen_random_uuid(),
  seq bigint generated always as identity,
  account_id uuid not null,
  kind text not null check (kind ~ '^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$'),
  title text not null check (length(title) between 1 and 200),
  body text not null check (length(body) <= 4000),
  url text check (length(url) <= 2000),
  idempotency_key text not null check (length(idempotency_key) between 1 and 200),
  created_at timestamptz not null default now(),
  read_at timestamptz,
  primary key (tenant_id, id)
);
create unique index notifications_idempotency
  on delivery.notifications (tenant_id, account_id, idempotency_key);
create index notifications_inbox on delivery.notifications (tenant_id, account_id, seq desc);
create index notifications_unread on delivery.notifications (tenant_id, account_id) where read_at is null;

-- The municipalities that have written to an account: the resident's inbox is read in these
-- tenants only (each in its own row-level-security transaction) instead of in every tenant.
-- A tenant's code may add its own row and read nothing.
create table delivery.inboxes (
  account_id uuid not null,
  tenant_id text not null references platform.tenants (id),
  created_at timestamptz not null default now(),
  primary key (account_id, tenant_id)
);

-- What became of one notification's push to one device. `retrying`: the push service answered 429
-- or 5xx (or could not be reached) and the job will try again; the other states are final, so a
-- retry never pushes twice to a device that has it. The device id is kept after the device is gone.
create table delivery.push_deliveries (
  tenant_id text not null,
  notification_id uuid not null,
  device_id uuid not null,
  status text not null check (status in ('sent', 'failed', 'gone', 'retrying')),
  http_status integer,
  reason text,
  attempts integer not null default 1,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, notification_id, device_id),
  foreign key (tenant_id, notification_id) references delivery.notifications (tenant_id, id) on delete cascade
);

do $$
declare
  t text;
begin
  foreach t in array array['notifications', 'inboxes', 'push_deliveries'] loop
    execute format('alter table delivery.%I enable row level security', t);
    execute format($p$create policy %I on delivery.%I
      using (tenant_id = current_setting('machi.tenant_id', true))
      with check (tenant_id = current_setting('machi.tenant_id', true))$p$, t || '_tenant', t);
  end loop;
end $$;

grant select, insert, update, delete on delivery.notifications, delivery.push_deliveries to machi_app;
grant insert on delivery.inboxes to machi_app;
