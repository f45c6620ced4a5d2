-- Platform foundation: PostGIS, the application role that row-level security applies to,
-- tenants (municipalities and prefectures by 全国地方公共団体コード), rate-limit counters.
create extension if not exists postgis;

-- Roles are cluster-wide: several databases (or test databases created at once) may race here.
do $$
begin
  if not exists (select from pg_roles where rolname = 'machi_app') then
    create role machi_app nologin;
  end if;
exception when duplicate_object or unique_violation then null;
end $$;

-- The connecting user must be able to `set role machi_app`.
do $$
begin
  if not pg_has_role(current_user, 'machi_app', 'member') then
    execute format('grant machi_app to %I', current_user);
  end if;
end $$;

create schema if not exists platform;
grant usage on schema platform to machi_app;

-- A tenant is a municipality or a prefecture; a prefecture is the parent of its municipalities.
-- Reference data (a code list), readable by every tenant.
create table platform.tenants (
  id text primary key check (id ~ '^[0-9]{6}$'),
  kind text not null check (kind in ('prefecture', 'municipality')),
  name text not null,
  name_en text not null,
  parent_id text references platform.tenants (id),
  created_at timestamptz not null default now(),
  check ((kind = 'prefecture') = (parent_id is null))
);
grant select on platform.tenants to machi_app;

-- Fixed-window request counters shared by every API process.
create table platform.rate_limits (
  key text primary key,
  window_start timestamptz not null,
  hits integer not null
);
