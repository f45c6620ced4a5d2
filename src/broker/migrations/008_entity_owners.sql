-- Residents' personal entities (types a tenant marked personal): the resident each one belongs to.
-- Kept beside the entity rather than in it, so the common write of non-personal data is untouched;
-- it goes with its entity. `owner` is the resident's account id (the consent capability's subject).
create table broker.entity_owners (
  tenant_id text not null,
  entity_id text not null,
  owner uuid not null,
  primary key (tenant_id, entity_id),
  foreign key (tenant_id, entity_id) references broker.entities (tenant_id, id) on delete cascade
);
create index entity_owners_owner on broker.entity_owners (tenant_id, owner);

alter table broker.entity_owners enable row level security;
create policy entity_owners_tenant on broker.entity_owners
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, delete on broker.entity_owners to machi_app;
