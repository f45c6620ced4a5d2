/**
 * The stored form of an NGSI-LD entity (see src/broker/README.md): types and attribute names are
 * expanded IRIs; each attribute is a list of instances (one per datasetId).
 */

export const ATTRIBUTE_TYPES = [
  'Property',
  'Relationship',
  'GeoProperty',
  'LanguageProperty',
  'VocabProperty',
  'JsonProperty',
  'ListProperty',
  'ListRelationship',
] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/** The member that carries each attribute type's value in the normalized representation. */
export const VALUE_MEMBER: Record<AttributeType, string> = {
  Property: 'value',
  Relationship: 'object',
  GeoProperty: 'value',
  LanguageProperty: 'languageMap',
  VocabProperty: 'vocab',
  JsonProperty: 'json',
  ListProperty: 'valueList',
  ListRelationship: 'objectList',
};

export interface Instance {
  type: AttributeType;
  value?: unknown;
  object?: string | string[];
  languageMap?: Record<string, string | string[]>;
  vocab?: string | string[];
  json?: unknown;
  valueList?: unknown[];
  objectList?: string[];
  objectType?: string;
  datasetId?: string;
  observedAt?: string;
  unitCode?: string;
  createdAt?: string;
  modifiedAt?: string;
  sub?: AttributeMap;
  /**
   * Set on an instance stored sealed (broker/sealed.ts): everything but its type, datasetId,
   * observedAt, createdAt and modifiedAt, encrypted with the tenant's data key.
   */
  sealed?: string;
}

/** Expanded attribute IRI → instances. */
export type AttributeMap = Record<string, Instance[]>;

export interface StoredEntity {
  id: string;
  types: string[];
  scopes: string[] | null;
  attrs: AttributeMap;
  createdAt?: string;
  modifiedAt?: string;
}

/** Members of an entity that are not attributes. */
export const ENTITY_MEMBERS = new Set([
  'id',
  '@id',
  'type',
  '@type',
  'scope',
  '@context',
  'createdAt',
  'modifiedAt',
  'deletedAt',
]);

/** Members of an attribute instance that are not sub-attributes. */
export const INSTANCE_MEMBERS = new Set([
  'type',
  ...Object.values(VALUE_MEMBER),
  'objectType',
  'datasetId',
  'observedAt',
  'unitCode',
  'createdAt',
  'modifiedAt',
  'deletedAt',
  'lang',
]);
