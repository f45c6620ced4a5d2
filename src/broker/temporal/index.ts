/**
 * The temporal API (ETSI GS CIM 009 §5.6.11–5.6.16, §5.7.3–5.7.4): the history of every entity's
 * attributes, written by the change hook in each write's transaction and by POST /temporal/entities.
 * It never changes the current entity store; it only reads it for q and geo-queries.
 */
export { recordHistory } from './record-history.ts';
export { registerTemporalRoutes } from './temporal-routes.ts';
