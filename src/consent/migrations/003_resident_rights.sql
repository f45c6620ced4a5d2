-- The resident's rights under 個人情報保護法, as exercised from My Page: disclosure (開示, a
-- download), stop of use (利用停止) and erasure (消去). Each request is recorded with what it did.
create table consent.resident_requests (
  tenant_id text not null references platform.tenants (id),
  id uuid not null default gen_random_uuid(),
  resident_id uuid not null,
  kind text not null check (kind in ('disclosure', 'stop', 'erasure')),
  -- The service a stop of use is about; null for requests about everything.
  client_id text,
  requested_at timestamptz not null default now(),
  -- What was done: records withdrawn, entities erased, what was kept and why.
  outcome jsonb not null,
  primary key (tenant_id, id)
);
create index resident_requests_resident on consent.resident_requests (tenant_id, resident_id, requested_at);

-- What a law requires a tenant to keep, by entity type: erasure leaves these entities while the
-- period runs from their creation, and tells the resident which law keeps them.
create table consent.legal_holds (
  tenant_id text not null references platform.tenants (id),
  entity_type text not null,
  law_ja text not null check (law_ja <> ''),
  law_en text not null check (law_en <> ''),
  -- ISO 8601 duration from the entity's creation (P5Y).
  period text not null check (period ~ '^P'),
  primary key (tenant_id, entity_type)
);

do $$
declare
  t text;
begin
  foreach t in array array['resident_requests', 'legal_holds'] loop
    execute format('alter table consent.%I enable row level security', t);
    execute format($p$create policy %I on consent.%I
      using (tenant_id = current_setting('machi.tenant_id', true))
      with check (tenant_id = current_setting('machi.tenant_id', true))$p$, t || '_tenant', t);
  end loop;
end $$;

grant select, insert on consent.resident_requests to machi_app;
grant select, insert, update, delete on consent.legal_holds to machi_app;
