-- Myカレンダー: garbage schedules staff import (5374 CSV), the day changes they enter, each
-- resident's choices (their area, the evening reminder) and their private iCalendar feeds.
create schema calendar;
grant usage on schema calendar to machi_app;

-- Every import is kept; the newest is the tenant's schedule in force. `schedule` is the parsed
-- import (areas with their rules, centres' pauses, categories, remarks); `files` names the uploaded
-- files with their SHA-256 and encoding, so staff can tell which upload is in force.
create table calendar.garbage_schedules (
  tenant_id text not null references platform.tenants (id),
  id uuid not null default gen_random_uuid(),
  imported_at timestamptz not null default clock_timestamp(),
  imported_by uuid not null,
  files jsonb not null,
  schedule jsonb not null,
  primary key (tenant_id, id)
);
create index garbage_schedules_newest on calendar.garbage_schedules (tenant_id, imported_at desc);

-- A day's collection cancelled or moved (a holiday, a storm), for a category or all, in an area or all.
create table calendar.garbage_exceptions (
  tenant_id text not null references platform.tenants (id),
  id uuid not null default gen_random_uuid(),
  day date not null,
  category text,
  area text,
  move_to date check (move_to is null or move_to <> day),
  reason text not null default '',
  created_by uuid not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id)
);
create index garbage_exceptions_day on calendar.garbage_exceptions (tenant_id, day);

-- The resident's own choices in a municipality: the garbage area they live in, and whether they
-- want a reminder the evening before a collection day.
create table calendar.resident_settings (
  tenant_id text not null references platform.tenants (id),
  account_id uuid not null,
  garbage_area text,
  evening_reminder boolean not null default false,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, account_id)
);
create index resident_settings_reminder on calendar.resident_settings (tenant_id, garbage_area)
  where evening_reminder;

-- Private iCalendar feeds: only the SHA-256 of the token is kept; revoking keeps the row, so a
-- revoked URL answers 404 like an unknown one.
create table calendar.feeds (
  tenant_id text not null references platform.tenants (id),
  token_hash text not null check (token_hash ~ '^[0-9a-f]{64}$'),
  account_id uuid not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (tenant_id, token_hash)
);
create index feeds_account on calendar.feeds (tenant_id, account_id) where revoked_at is null;

do $$
declare
  t text;
begin
  foreach t in array array['garbage_schedules', 'garbage_exceptions', 'resident_settings', 'feeds'] loop
    execute format('alter table calendar.%I enable row level security', t);
    execute format($p$create policy %I on calendar.%I
      using (tenant_id = current_setting('machi.tenant_id', true))
      with check (tenant_id = current_setting('machi.tenant_id', true))$p$, t || '_tenant', t);
  end loop;
end $$;

grant select, insert on calendar.garbage_schedules to machi_app;
grant select, insert, delete on calendar.garbage_exceptions to machi_app;
grant select, insert, update on calendar.resident_settings to machi_app;
grant select, insert, update on calendar.feeds to machi_app;
