-- NGSI-LD entities in their stored form (see src/broker/README.md), one row per entity and tenant.
create schema if not exists broker;
grant usage on schema broker to machi_app;

create table broker.entities (
  tenant_id text not null references platform.tenants (id),
  id text not null,
  types text[] not null check (cardinality(types) > 0),
  scopes text[],
  attrs jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  primary key (tenant_id, id)
);
create index entities_types on broker.entities using gin (types);
create index entities_modified on broker.entities (tenant_id, modified_at);

alter table broker.entities enable row level security;
create policy entities_tenant on broker.entities
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update, delete on broker.entities to machi_app;

-- Geometries of GeoProperties, kept with their entity, for geo-queries.
create table broker.geo (
  tenant_id text not null,
  entity_id text not null,
  attr text not null,
  dataset_id text not null default '',
  geom geometry(Geometry, 4326) not null,
  primary key (tenant_id, entity_id, attr, dataset_id),
  foreign key (tenant_id, entity_id) references broker.entities (tenant_id, id) on delete cascade
);
create index geo_geom on broker.geo using gist (geom);
create index geo_geog on broker.geo using gist ((geom::geography));

alter table broker.geo enable row level security;
create policy geo_tenant on broker.geo
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update, delete on broker.geo to machi_app;

-- JSON-LD @context documents: fetched remote contexts (shared by every process, so none refetches
-- after a restart) and contexts hosted by this broker (/jsonldContexts).
create table broker.jsonld_contexts (
  url text primary key,
  body jsonb not null,
  kind text not null check (kind in ('cached', 'hosted')),
  fetched_at timestamptz not null default now()
);
