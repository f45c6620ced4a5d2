/**
 * Open data: imports the 自治体標準オープンデータセット into the broker as NGSI-LD entities of a tenant.
 * It writes only through the broker's import function, never into broker tables itself.
 */
export { DATASETS, readStandardDataset } from './standard-dataset.ts';
