/**
 * The consent receipt: what a consent record says, in the fields of ISO/IEC TS 27560, as a JSON
 * payload the identity capability signs (JWS, typ `consent-receipt+jwt`) with the deployment's
 * OpenID signing key. Anyone holding it can check it against the issuer's published JWKS.
 */
import type { Category, ConsentRecord, Purpose } from './types.ts';

export const RECEIPT_TYPE = 'consent-receipt+jwt';
export const RECEIPT_SCHEMA = 'https://machi.example/ns/consent-receipt/v1';

export interface ReceiptContext {
  issuer: string;
  tenant: string;
  serviceName: string;
  categories: readonly Category[];
  purposes: readonly Purpose[];
  /** When the receipt is issued; default now. */
  at?: Date;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** The receipt's claims for a record. `sub` is the pairwise subject the service knows the resident by. */
export function consentReceipt(record: ConsentRecord, ctx: ReceiptContext): Record<string, unknown> {
  const category = (code: string) => ctx.categories.find((c) => c.code === code);
  const purpose = (id: string) => ctx.purposes.find((p) => p.id === id);
  return {
    iss: ctx.issuer,
    sub: record.subject,
    iat: seconds(ctx.at ?? new Date()),
    jti: record.id,
    schema: RECEIPT_SCHEMA,
    record: {
      id: record.id,
      tenant: ctx.tenant,
      state: record.state,
      givenAt: record.givenAt.toISOString(),
      expiresAt: record.expiresAt?.toISOString() ?? null,
      method: record.method,
      events: record.events.map((e) => ({ event: e.event, at: e.at.toISOString() })),
    },
    recipient: { clientId: record.clientId, name: ctx.serviceName, controller: record.controller },
    notice: { version: record.textVersion, sha256: record.textSha256, requestVersion: record.requestVersion },
    items: record.items.map((i) => ({
      category: i.category,
      categoryName: category(i.category)?.nameJa ?? i.category,
      sensitive: category(i.category)?.sensitive ?? true,
      purpose: i.purpose,
      purposeName: purpose(i.purpose)?.nameJa ?? i.purpose,
      dpv: purpose(i.purpose)?.dpv ?? null,
      legalBasis: i.legalBasis,
      retention: i.retention,
      thirdParty: i.thirdParty,
      actions: i.actions,
    })),
  };
}
