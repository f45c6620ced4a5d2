-- Consent: data categories, purposes, what each service (OIDC client) requests and on which legal
-- basis, the residents' consent records (ISO/IEC TS 27560) and their append-only history.
-- Reference tables (categories, staff role → category) are code lists readable by every tenant;
-- everything else is tenant-owned: tenant_id leads every key, under row-level security.
create schema if not exists consent;
grant usage on schema consent to machi_app;

-- Data categories. `sensitive` marks 要配慮個人情報 (個人情報保護法 第2条第3項), which always needs
-- explicit consent unless the municipality itself processes it for a statutory duty.
create table consent.categories (
  code text primary key check (code ~ '^[a-z][a-z0-9-]*$'),
  name_ja text not null,
  name_en text not null,
  sensitive boolean not null
);
grant select on consent.categories to machi_app;
insert into consent.categories (code, name_ja, name_en, sensitive) values
  ('contact', '連絡先', 'Contact details', false),
  ('profile', '氏名・生年月日', 'Name and date of birth', false),
  ('address', '住所（町丁目まで）', 'Address (to 町丁目)', false),
  ('household', '世帯（お子さまと生年月日）', 'Household (children and their dates of birth)', false),
  ('interests', '関心のある分野', 'Interests', false),
  ('health', '健康情報', 'Health records', true),
  ('pregnancy', '妊娠・出産の情報', 'Pregnancy records', true),
  ('vaccination', '予防接種記録', 'Vaccination records', true);

-- Which categories a staff role may reach (with a stated purpose). No tenant administrator reads
-- 要配慮個人情報 by default: that takes the health officer's role.
create table consent.staff_role_categories (
  role text not null,
  category text not null references consent.categories (code),
  primary key (role, category)
);
grant select on consent.staff_role_categories to machi_app;
insert into consent.staff_role_categories (role, category) values
  ('admin', 'contact'), ('admin', 'profile'), ('admin', 'address'), ('admin', 'household'),
  ('admin', 'interests'),
  ('health-officer', 'contact'), ('health-officer', 'profile'), ('health-officer', 'address'),
  ('health-officer', 'household'), ('health-officer', 'health'), ('health-officer', 'pregnancy'),
  ('health-officer', 'vaccination'),
  ('disaster-officer', 'contact'), ('disaster-officer', 'profile'), ('disaster-officer', 'address'),
  ('disaster-officer', 'household');

-- NGSI-LD entity type (expanded IRI or short name) and attribute ('*': every attribute) → category.
-- Tenant-owned: a municipality maps its own types.
create table consent.category_map (
  tenant_id text not null references platform.tenants (id),
  entity_type text not null check (entity_type <> ''),
  attribute text not null check (attribute <> ''),
  category text not null references consent.categories (code),
  primary key (tenant_id, entity_type, attribute)
);

-- The tenant's catalogue of purposes, aligned with W3C DPV where a term exists (`dpv:ServiceProvision`).
create table consent.purposes (
  tenant_id text not null references platform.tenants (id),
  id text not null check (id ~ '^[a-z][a-z0-9-]{0,62}$'),
  name_ja text not null,
  name_en text not null,
  description_ja text not null,
  description_en text not null,
  dpv text check (dpv ~ '^(dpv:|https://w3id\.org/dpv)'),
  created_at timestamptz not null default now(),
  primary key (tenant_id, id)
);

-- What a service asks for, one row per version: any change makes a new version, and consent given
-- to an earlier version covers only the items that did not grow.
create table consent.service_requests (
  tenant_id text not null references platform.tenants (id),
  client_id text not null check (client_id <> ''),
  version integer not null check (version > 0),
  controller text not null check (controller <> ''),
  -- 'municipality': the tenant itself is the controller (a vendor running its service under 委託
  -- declares the municipality); 'private': the operator is its own controller.
  controller_kind text not null check (controller_kind in ('municipality', 'private')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, client_id, version)
);

create table consent.request_items (
  tenant_id text not null,
  client_id text not null,
  version integer not null,
  category text not null references consent.categories (code),
  purpose text not null,
  -- ISO 8601 duration (P30D, P1Y): how long the service keeps the data.
  retention text not null,
  third_party boolean not null,
  actions text[] not null check (cardinality(actions) > 0 and actions <@ array['read', 'write']),
  legal_basis text not null
    check (legal_basis in ('consent', 'statutory-duty', 'contract', 'vital-interest', 'public-task')),
  primary key (tenant_id, client_id, version, category, purpose),
  foreign key (tenant_id, client_id, version) references consent.service_requests (tenant_id, client_id, version),
  foreign key (tenant_id, purpose) references consent.purposes (tenant_id, id)
);

-- The texts residents were shown, kept whole, so a record proves what was agreed to.
create table consent.texts (
  tenant_id text not null references platform.tenants (id),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  version text not null check (version <> ''),
  language text not null,
  body text not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, sha256, version)
);

-- A consent record (ISO/IEC TS 27560): who (account and the pairwise subject the service sees), to
-- whom (service and controller), for which request version, shown which text, given and expiring when.
-- Never updated: its state is the history in record_events.
create table consent.records (
  tenant_id text not null references platform.tenants (id),
  id uuid not null default gen_random_uuid(),
  resident_id uuid not null,
  subject text not null,
  client_id text not null,
  controller text not null,
  request_version integer not null,
  text_sha256 text not null,
  text_version text not null,
  method text not null default 'web-form',
  given_at timestamptz not null default now(),
  expires_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, client_id, request_version)
    references consent.service_requests (tenant_id, client_id, version),
  foreign key (tenant_id, text_sha256, text_version) references consent.texts (tenant_id, sha256, version),
  check (expires_at is null or expires_at > given_at)
);
create index records_resident on consent.records (tenant_id, resident_id, client_id);
create index records_client on consent.records (tenant_id, client_id, resident_id);

-- The items granted, with the terms as they were shown (a resident may grant part of a request).
create table consent.record_items (
  tenant_id text not null,
  record_id uuid not null,
  category text not null references consent.categories (code),
  purpose text not null,
  retention text not null,
  third_party boolean not null,
  actions text[] not null,
  legal_basis text not null check (legal_basis = 'consent'),
  primary key (tenant_id, record_id, category, purpose),
  foreign key (tenant_id, record_id) references consent.records (tenant_id, id),
  foreign key (tenant_id, purpose) references consent.purposes (tenant_id, id)
);
create index record_items_use on consent.record_items (tenant_id, category, purpose, record_id);

-- State changes, appended and never changed; each happens to a record at most once.
create table consent.record_events (
  tenant_id text not null,
  record_id uuid not null,
  event text not null check (event in ('given', 'withdrawn', 'expired', 'superseded')),
  at timestamptz not null default now(),
  primary key (tenant_id, record_id, event),
  foreign key (tenant_id, record_id) references consent.records (tenant_id, id)
);

do $$
declare
  t text;
begin
  foreach t in array array['category_map', 'purposes', 'service_requests', 'request_items', 'texts',
                           'records', 'record_items', 'record_events'] loop
    execute format('alter table consent.%I enable row level security', t);
    execute format($p$create policy %I on consent.%I
      using (tenant_id = current_setting('machi.tenant_id', true))
      with check (tenant_id = current_setting('machi.tenant_id', true))$p$, t || '_tenant', t);
  end loop;
end $$;

-- Catalogue tables are edited; what residents agreed to only grows.
grant select, insert, update, delete on consent.category_map, consent.purposes to machi_app;
grant select, insert on consent.service_requests, consent.request_items, consent.texts,
  consent.records, consent.record_items, consent.record_events to machi_app;
