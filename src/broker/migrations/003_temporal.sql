-- The temporal store (ETSI GS CIM 009 §4.5.7, §5.6.11–5.6.16, §5.7.3–5.7.4): the history of every
-- attribute instance, appended by the broker's change hook in the write's own transaction and by
-- POST /temporal/entities. See src/broker/temporal/README.md.

-- One row per entity that has history: its type and scope for temporal queries, and when it was
-- deleted from the current store (its history outlives it until DELETE /temporal/entities/{id}).
create table broker.temporal_entities (
  tenant_id text not null references platform.tenants (id),
  id text not null,
  types text[] not null check (cardinality(types) > 0),
  scopes text[],
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  deleted_at timestamptz,
  primary key (tenant_id, id)
);
create index temporal_entities_types on broker.temporal_entities using gin (types);

alter table broker.temporal_entities enable row level security;
create policy temporal_entities_tenant on broker.temporal_entities
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update, delete on broker.temporal_entities to machi_app;

-- One row per attribute instance ever written. `value` is the instance in the stored form of
-- src/broker/README.md (for a deletion only its type and datasetId). `at` places the row on the
-- timeline: its observedAt when it has one, else when it was written; it is the partition key, so
-- the default temporal query (timeproperty=observedAt) is pruned to the months it asks for, and a
-- month that nobody reads any more can be detached whole ("Big history" in DESIGN.md).
create table broker.attribute_instances (
  tenant_id text not null,
  entity_id text not null,
  attr text not null,
  dataset_id text not null default '',
  instance_id text not null,
  value jsonb not null,
  observed_at timestamptz,
  created_at timestamptz not null,
  modified_at timestamptz not null,
  deleted_at timestamptz,
  at timestamptz not null,
  -- A unique index on a partitioned table must include the partition key.
  primary key (tenant_id, instance_id, at)
) partition by range (at);
create index attribute_instances_series on broker.attribute_instances (tenant_id, entity_id, attr, at);
create index attribute_instances_modified
  on broker.attribute_instances (tenant_id, entity_id, attr, modified_at);

alter table broker.attribute_instances enable row level security;
create policy attribute_instances_tenant on broker.attribute_instances
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
-- Only the parent is granted: rows are read and routed through it, so its policy is the one that
-- applies, and the application role cannot reach a partition directly.
grant select, insert, update, delete on broker.attribute_instances to machi_app;

-- Creates the partition for the month that holds `day` (idempotent), under row-level security like
-- every tenant table. Operators run it ahead of time, e.g. monthly from cron:
--   select broker.create_history_partition(date '2027-12-01');
-- A month with rows already in the default partition cannot be created until those rows are moved
-- (PostgreSQL refuses: the default partition would violate the new bound); create months early.
-- To archive a month: detach it, dump it, drop it; queries of the other months are not disturbed:
--   alter table broker.attribute_instances detach partition broker.attribute_instances_y2025m01;
--   pg_dump -t broker.attribute_instances_y2025m01 … ; drop table broker.attribute_instances_y2025m01;
-- (DETACH … CONCURRENTLY is not allowed while a default partition exists; a plain DETACH holds its
-- lock only for a moment.) To bring an archive back: restore the table, then
--   alter table broker.attribute_instances attach partition broker.attribute_instances_y2025m01
--     for values from ('2025-01-01 00:00+00') to ('2025-02-01 00:00+00');
create function broker.create_history_partition(day date) returns text
language plpgsql as $$
declare
  month_start timestamp := date_trunc('month', day::timestamp);
  part text := format('attribute_instances_y%sm%s', to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
begin
  if to_regclass('broker.' || part) is not null then
    return part;
  end if;
  execute format(
    'create table broker.%I partition of broker.attribute_instances for values from (%L) to (%L)',
    part, month_start at time zone 'UTC', (month_start + interval '1 month') at time zone 'UTC');
  execute format('alter table broker.%I enable row level security', part);
  execute format(
    'create policy tenant on broker.%I using (tenant_id = current_setting(''machi.tenant_id'', true))'
    ' with check (tenant_id = current_setting(''machi.tenant_id'', true))', part);
  return part;
end;
$$;

-- Twelve months back and twelve ahead of the migration; anything outside lands in the default
-- partition (late or very old data is kept, only not pruned), from which an operator can move it.
select broker.create_history_partition((now() + make_interval(months => m))::date)
  from generate_series(-12, 12) as m;

create table broker.attribute_instances_default partition of broker.attribute_instances default;
alter table broker.attribute_instances_default enable row level security;
create policy tenant on broker.attribute_instances_default
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
