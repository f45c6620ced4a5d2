-- Geo-queries read geometries through this view instead of broker.geo directly.
-- Why: under row-level security PostgreSQL evaluates a table's policy before any condition whose
-- functions are not LEAKPROOF, and PostGIS's are not, so a query as machi_app could never use the
-- spatial indexes of broker.geo and scanned the tenant's every geometry (about 1.4 s at 1M entities).
-- The view belongs to the schema owner, who is not subject to the policy, and applies the same tenant
-- condition itself, so the planner may combine it with ST_DWithin/ST_Intersects in one index scan.
-- Tenant isolation for geometries read this way is therefore this view's WHERE clause.
create view broker.geo_in_tenant as
  select tenant_id, entity_id, attr, dataset_id, geom
    from broker.geo
   where tenant_id = current_setting('machi.tenant_id', true);
grant select on broker.geo_in_tenant to machi_app;
