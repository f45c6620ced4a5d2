-- Local identifiers of stored @contexts: /ngsi-ld/v1/jsonldContexts/{localId} (ETSI GS CIM 009 §5.13).
-- A hosted context's URL ends in its local id; a cached one keeps the URL it was fetched from.
alter table broker.jsonld_contexts add column local_id text;
update broker.jsonld_contexts set local_id = gen_random_uuid()::text where local_id is null;
alter table broker.jsonld_contexts
  alter column local_id set default gen_random_uuid()::text,
  alter column local_id set not null;
create unique index jsonld_contexts_local_id on broker.jsonld_contexts (local_id);

-- The top-level attribute names of an entity, for discovery (§5.7.8–5.7.10): an expression index
-- on them finds the entities that have one attribute without a GIN index over every value of
-- `attrs` (jsonb_ops would index each value too, and cost far more on every write).
create function broker.attr_names(attrs jsonb) returns text[]
  language sql immutable strict parallel safe
  as $$ select coalesce(array_agg(k), '{}') from jsonb_object_keys(attrs) as k $$;
create index entities_attr_names on broker.entities using gin (broker.attr_names(attrs));
grant execute on function broker.attr_names(jsonb) to machi_app;
