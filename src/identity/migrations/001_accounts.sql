-- Accounts: one per person across the municipalities of the deployment (共通ID).
-- Residents have a home municipality; staff hold roles per tenant.
create schema if not exists identity;
grant usage on schema identity to machi_app;

create table identity.accounts (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind in ('resident', 'staff')),
  email text not null,
  display_name text not null,
  password_hash text,
  home_tenant_id text references platform.tenants (id),
  created_at timestamptz not null default now(),
  check ((kind = 'resident') = (home_tenant_id is not null))
);
create unique index accounts_email on identity.accounts (lower(email));

-- A staff member's roles in one tenant. Tenant-owned: row-level security keeps each tenant to its own.
create table identity.staff_roles (
  tenant_id text not null references platform.tenants (id),
  account_id uuid not null references identity.accounts (id) on delete cascade,
  role text not null check (role in ('admin', 'editor', 'viewer')),
  granted_at timestamptz not null default now(),
  primary key (tenant_id, account_id, role)
);
alter table identity.staff_roles enable row level security;
create policy staff_roles_tenant on identity.staff_roles
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update, delete on identity.staff_roles to machi_app;
