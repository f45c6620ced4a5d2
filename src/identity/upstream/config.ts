/**
 * Upstream OpenID providers residents may log in through, from UPSTREAM_OIDC (a JSON list): the
 * Digital Agency's デジタル認証アプリ (backed by the My Number Card), LINE Login, or another provider
 * the operator configures. Each is an ordinary OpenID Connect relying-party registration.
 */
import { readFileSync } from 'node:fs';
import { BadValue, type ConfigOption, readOptions } from '../../platform/index.ts';
import { ACR, type Acr } from '../oidc/assurance.ts';

export interface UpstreamProvider {
  /** Short name in URLs: /login/upstream/{id}/callback. */
  id: string;
  /** What the button says, Japanese and English. */
  name: { ja: string; en: string };
  issuer: string;
  clientId: string;
  /** client_secret_basic; or `privateKeyFile` for private_key_jwt (デジタル認証アプリ). */
  clientSecret?: string;
  /** A PKCS#8 PEM private key for private_key_jwt. */
  privateKeyPem?: string;
  scope: string;
  /** Sent as acr_values, e.g. `aal3` for デジタル認証アプリ. */
  acrValues?: string;
  /** The assurance Machi records for a login through this provider. */
  acr: Acr;
  /** RFC 8176 methods to record, e.g. ["hwk", "pin"] for a card-backed provider. */
  amr: string[];
  /** May a first login create an account (home municipality taken from the verified address)? */
  createAccounts: boolean;
  /** Are the provider's name, address, birthdate and gender claims verified (kept as verified claims)? */
  verifiedClaims: boolean;
}

export interface UpstreamConfig {
  providers: UpstreamProvider[];
}

const ACR_BY_NAME: Record<string, Acr> = { password: ACR.password, mfa: ACR.mfa, card: ACR.card };

function parseProvider(raw: Record<string, unknown>, index: number): UpstreamProvider {
  const where = `entry ${index + 1}`;
  const text = (key: string, required = true): string | undefined => {
    const value = raw[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '')
      throw new BadValue(`${where}: "${key}" must be a string`);
    return value.trim();
  };
  const id = text('id') as string;
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(id))
    throw new BadValue(`${where}: "id" must be lowercase letters, digits, hyphens`);
  const issuer = text('issuer') as string;
  if (!/^https?:\/\//.test(issuer)) throw new BadValue(`${where}: "issuer" must be an http(s) URL`);
  const keyFile = text('privateKeyFile', false);
  const clientSecret = text('clientSecret', false);
  if (!keyFile && !clientSecret) throw new BadValue(`${where}: needs "clientSecret" or "privateKeyFile"`);
  const acrName = text('acr', false) ?? 'password';
  const acr = ACR_BY_NAME[acrName];
  if (!acr) throw new BadValue(`${where}: "acr" must be password, mfa or card`);
  let privateKeyPem: string | undefined;
  if (keyFile) {
    try {
      privateKeyPem = readFileSync(keyFile, 'utf8');
    } catch {
      throw new BadValue(`${where}: cannot read privateKeyFile ${keyFile}`);
    }
  }
  const name = text('name') as string;
  return {
    id,
    name: { ja: name, en: text('nameEn', false) ?? name },
    issuer,
    clientId: text('clientId') as string,
    clientSecret,
    privateKeyPem,
    scope: text('scope', false) ?? 'openid',
    acrValues: text('acrValues', false),
    acr,
    amr: Array.isArray(raw.amr) ? raw.amr.map(String) : [],
    createAccounts: raw.createAccounts === true,
    verifiedClaims: raw.verifiedClaims === true,
  };
}

export function parseUpstreamProviders(text: string): UpstreamProvider[] {
  if (text.trim() === '') return [];
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new BadValue('must be a JSON list of providers');
  }
  if (!Array.isArray(list)) throw new BadValue('must be a JSON list of providers');
  const providers = list.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new BadValue(`entry ${i + 1} must be an object`);
    return parseProvider(entry as Record<string, unknown>, i);
  });
  const ids = providers.map((p) => p.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new BadValue(`the id ${twice} is used twice`);
  return providers;
}

export const upstreamOptions: readonly ConfigOption<UpstreamConfig>[] = [
  {
    env: 'UPSTREAM_OIDC',
    key: 'providers',
    description:
      'OpenID providers residents may log in through, as a JSON list of {id, name, nameEn, issuer, clientId, clientSecret | privateKeyFile, scope, acrValues, acr: password|mfa|card, amr, createAccounts, verifiedClaims} (docs/upstream-login.md)',
    default: '',
    parse: parseUpstreamProviders,
  },
];

export function loadUpstreamConfig(env: Record<string, string | undefined>): UpstreamConfig {
  return readOptions(upstreamOptions, env);
}
