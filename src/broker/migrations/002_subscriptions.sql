-- NGSI-LD subscriptions (ETSI GS CIM 009 §5.2.12), one row per subscription and tenant.
-- Terms (types, attribute names) are stored expanded; `body` keeps the members as the subscriber
-- wrote them, so a partial update (§5.8.2) merges into what was sent and is validated again.
create table broker.subscriptions (
  tenant_id text not null references platform.tenants (id),
  id text not null,
  body jsonb not null,
  -- The subscriber's @context (a list of URLs and inline contexts); notifications are compacted with it.
  context jsonb not null default '[]'::jsonb,
  -- Entity selectors, expanded: [{"types": [iri, …], "id": …, "idPattern": …}]; null when only
  -- watchedAttributes are given. entity_types is their union, for finding candidates by type.
  entities jsonb,
  entity_types text[],
  watched_attributes text[],
  triggers text[] not null,
  q text,
  geo_q jsonb,
  -- Expanded terms of q and geoQ (term → IRI), so the change hook compiles them without a @context.
  expansions jsonb not null default '{}'::jsonb,
  time_interval double precision check (time_interval > 0),
  throttling double precision check (throttling > 0),
  expires_at timestamptz,
  is_active boolean not null default true,
  -- Bumped whenever the periodic schedule must restart; a periodic job of an older epoch stops.
  epoch integer not null default 0,
  -- When the last notification was queued (throttling counts from here, §5.8.6).
  last_queued_at timestamptz,
  times_sent integer not null default 0,
  times_failed integer not null default 0,
  last_notification timestamptz,
  last_success timestamptz,
  last_failure timestamptz,
  last_error_reason text,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  primary key (tenant_id, id)
);
create index subscriptions_types on broker.subscriptions using gin (entity_types);
create index subscriptions_created on broker.subscriptions (tenant_id, created_at, id);

alter table broker.subscriptions enable row level security;
create policy subscriptions_tenant on broker.subscriptions
  using (tenant_id = current_setting('machi.tenant_id', true))
  with check (tenant_id = current_setting('machi.tenant_id', true));
grant select, insert, update, delete on broker.subscriptions to machi_app;
