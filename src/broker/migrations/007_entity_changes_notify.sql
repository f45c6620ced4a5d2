-- Each process keeps recently read entities in memory (src/broker/entities/cache.ts). When an entity
-- is updated or deleted, by any process, every process must drop its copy: these triggers announce
-- the changed rows on the channel machi_broker_entities when the transaction commits, one
-- notification per statement ("<tenant> <id>" per line; "<tenant> *" when the list would not fit in
-- a notification). Inserts announce nothing: no process holds a copy of an entity that did not exist.
create function broker.announce_entity_changes() returns trigger
language plpgsql as $$
declare
  payload text;
begin
  select string_agg(distinct c.tenant_id || ' ' || c.id, E'\n') into payload from changed_rows c;
  if payload is null then
    return null;
  end if;
  if octet_length(payload) > 7000 then
    select string_agg(distinct c.tenant_id || ' *', E'\n') into payload from changed_rows c;
  end if;
  perform pg_notify('machi_broker_entities', payload);
  return null;
end
$$;

create trigger entities_updated_announce after update on broker.entities
  referencing old table as changed_rows
  for each statement execute function broker.announce_entity_changes();
create trigger entities_deleted_announce after delete on broker.entities
  referencing old table as changed_rows
  for each statement execute function broker.announce_entity_changes();
