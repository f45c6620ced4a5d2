/**
 * What the consent benchmark's server and its driver agree on: the tenant, the two entity types of
 * the same shape (one personal, one public), the purpose and categories, and the service's callback.
 */
export const TENANT = '041009';
export const PURPOSE = 'telemedicine';
export const REDIRECT_URI = 'http://127.0.0.1:9/bench/clinic/callback';
export const PASSWORD = 'bench password 1234';

/** A resident's vaccination record: personal, one per resident. */
export const PERSONAL_TYPE = 'VaccinationRecord';
/** The same record anonymised, as open data: public, the same attributes. */
export const PUBLIC_TYPE = 'AnonymisedVaccinationRecord';

/** The categories the service asks for, each granted: the record's own, and its clinic note's. */
export const ITEMS = [
  { category: 'vaccination', purpose: PURPOSE },
  { category: 'health', purpose: PURPOSE },
] as const;

export const personalId = (n: number) => `urn:ngsi-ld:${PERSONAL_TYPE}:bench-${n}`;
export const publicId = (n: number) => `urn:ngsi-ld:${PUBLIC_TYPE}:bench-${n}`;

/** One record, normalized, with every attribute kind a record has; `n` varies the values. */
export function record(id: string, type: string, n: number): Record<string, unknown> {
  return {
    id,
    type,
    vaccine: { type: 'Property', value: n % 2 ? 'BCG' : 'MR' },
    doseNumber: { type: 'Property', value: 1 + (n % 3) },
    administeredAt: {
      type: 'Property',
      value: { '@type': 'DateTime', '@value': `2026-0${1 + (n % 9)}-1${n % 10}T10:00:00Z` },
    },
    lotNumber: { type: 'Property', value: `LOT-${String(n).padStart(6, '0')}` },
    administeredBy: { type: 'Relationship', object: `urn:ngsi-ld:Clinic:sendai-${n % 20}` },
    clinicNote: { type: 'Property', value: '接種後の発熱なし、腫れは軽度' },
  };
}

/** What the server announces once it listens. */
export interface Announcement {
  port: number;
  clientId: string;
  clientSecret: string;
  /** Residents who log in (their consent given on the consent page), each with their own record. */
  logins: { email: string; personalId: string; publicId: string }[];
  /** Residents with a record and a consent, the logins among them. */
  residents: number;
  /** A bench-only route answering the number of lines in the access log, to check that reads are logged. */
  accessLogPath: string;
}
