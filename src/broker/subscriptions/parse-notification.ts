/**
 * Reads a subscription's `notification` member (ETSI GS CIM 009 §5.2.14 NotificationParams, §5.2.15
 * Endpoint, §5.2.22 KeyValuePair): what to send, in which representation, and where.
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { assertName, isUri } from '../entities/parse-entity.ts';
import { BadRequestData } from '../errors.ts';
import type { Endpoint, KeyValue, NotificationParams } from './model.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const SCHEMES = new Set(['http:', 'https:', 'mqtt:', 'mqtts:']);
const ACCEPT = ['application/json', 'application/ld+json'] as const;
/** §7.2: the MQTT versions and QoS levels a subscriber may ask for in notifierInfo. */
const MQTT_VERSIONS = new Set(['mqtt3.1.1', 'mqtt5.0']);
const MQTT_QOS = new Set(['0', '1', '2']);
/** A header name (RFC 9110 token), since receiverInfo becomes HTTP headers (§5.2.22). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseNotification(value: unknown, ctx: ActiveContext): NotificationParams {
  if (!isObject(value)) {
    throw new BadRequestData('notification is required and must be an object with an endpoint');
  }
  return {
    attributes: parseAttributeList(value.attributes, 'notification.attributes', ctx),
    format: parseFormat(value.format),
    showChanges: optionalBoolean(value.showChanges, 'notification.showChanges'),
    sysAttrs: optionalBoolean(value.sysAttrs, 'notification.sysAttrs'),
    endpoint: parseEndpoint(value.endpoint),
  };
}

/** A non-empty list of attribute names, expanded; undefined when absent. */
export function parseAttributeList(value: unknown, what: string, ctx: ActiveContext): string[] | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string')) {
    throw new BadRequestData(`${what} must be a non-empty array of attribute names`);
  }
  return [
    ...new Set(
      value.map((name: string) => {
        assertName(name, `${what} member`);
        return ctx.expand(name);
      }),
    ),
  ];
}

function parseFormat(value: unknown): NotificationParams['format'] {
  if (value === undefined || value === 'normalized') return 'normalized';
  if (value === 'keyValues' || value === 'simplified') return 'keyValues';
  if (value === 'concise') return 'concise';
  throw new BadRequestData(
    `notification.format must be normalized, concise or keyValues, got ${JSON.stringify(value)}`,
  );
}

export function optionalBoolean(value: unknown, what: string): boolean {
  if (value === undefined) {
    return false;
  }
  if (typeof value !== 'boolean') {
    throw new BadRequestData(`${what} must be true or false`);
  }
  return value;
}

function parseEndpoint(value: unknown): Endpoint {
  if (!isObject(value)) {
    throw new BadRequestData('notification.endpoint is required and must be an object with a uri');
  }
  const uri = value.uri;
  let scheme: string | undefined;
  try {
    scheme = isUri(uri) ? new URL(uri).protocol : undefined;
  } catch {
    scheme = undefined;
  }
  if (!scheme || !SCHEMES.has(scheme)) {
    throw new BadRequestData(
      `notification.endpoint.uri must be an http, https, mqtt or mqtts URL, got ${JSON.stringify(uri)}`,
    );
  }
  if ((scheme === 'mqtt:' || scheme === 'mqtts:') && new URL(uri as string).pathname.length < 2) {
    throw new BadRequestData('an MQTT notification.endpoint.uri must name a topic: mqtt://host[:port]/topic');
  }
  const accept = value.accept ?? 'application/json';
  if (!ACCEPT.includes(accept as (typeof ACCEPT)[number])) {
    throw new BadRequestData(
      `notification.endpoint.accept must be ${ACCEPT.join(' or ')}, got ${JSON.stringify(accept)}`,
    );
  }
  const notifierInfo = parseKeyValues(value.notifierInfo, 'notification.endpoint.notifierInfo');
  checkNotifierInfo(notifierInfo);
  return {
    uri: uri as string,
    accept: accept as Endpoint['accept'],
    receiverInfo: parseKeyValues(value.receiverInfo, 'notification.endpoint.receiverInfo'),
    notifierInfo,
  };
}

function parseKeyValues(value: unknown, what: string): KeyValue[] {
  if (value === undefined) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new BadRequestData(`${what} must be an array of {"key": …, "value": …}`);
  }
  return value.map((item, index) => {
    if (!isObject(item) || typeof item.key !== 'string' || typeof item.value !== 'string') {
      throw new BadRequestData(`${what}[${index}] must be {"key": string, "value": string}`);
    }
    if (!TOKEN.test(item.key) || /[\r\n\0]/.test(item.value)) {
      throw new BadRequestData(`${what}[${index}] must have a header-safe key and a one-line value`);
    }
    return { key: item.key, value: item.value };
  });
}

function checkNotifierInfo(info: KeyValue[]): void {
  for (const { key, value } of info) {
    if (key === 'MQTT-Version' && !MQTT_VERSIONS.has(value)) {
      throw new BadRequestData(`notifierInfo MQTT-Version must be mqtt3.1.1 or mqtt5.0, got ${value}`);
    }
    if (key === 'MQTT-QoS' && !MQTT_QOS.has(value)) {
      throw new BadRequestData(`notifierInfo MQTT-QoS must be 0, 1 or 2, got ${value}`);
    }
  }
}
