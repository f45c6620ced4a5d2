/**
 * Demo personal data, so that My Page has something to show at the first start: in 仙台市, a
 * made-up online paediatric service (a registered client) asks for a child's vaccination records
 * for medical consultations; 青葉 花子 has agreed on My Page, her child's record is in the broker,
 * and the service has read it once, which her data tracker shows. Everything here is fictitious.
 */
import { residentImporter } from '../broker/index.ts';
import {
  appendAccess,
  declareServiceRequest,
  defineLegalHold,
  definePurpose,
  mapCategory,
} from '../consent/index.ts';
import { consentAsResident, listClients, registerClient } from '../identity/index.ts';
import type { DataKeys, Db, SecretBox } from '../platform/index.ts';

const SENDAI = '041009';
const CLINIC = '仙台こどもオンライン診療（デモ）';
const RECORD = 'urn:ngsi-ld:VaccinationRecord:demo-aoba-child-1';

/** Loads the demo's personal data for the resident, once (a reload finds the service and stops). */
export async function loadDemoPersonalData(
  db: Db,
  box: SecretBox,
  keys: DataKeys,
  residentId: string,
): Promise<void> {
  if ((await listClients(db, SENDAI)).some((c) => c.name === CLINIC)) return;
  const { clientId } = await registerClient(db, box, {
    tenantCode: SENDAI,
    name: CLINIC,
    redirectUris: ['http://127.0.0.1:8765/callback'],
    scopes: ['openid', 'profile'],
    serviceAccess: true,
  });
  await db.withTenant(SENDAI, async (tx) => {
    await definePurpose(tx, SENDAI, {
      id: 'telemedicine',
      nameJa: '医療相談',
      nameEn: 'Medical consultation',
      descriptionJa: '夜間・休日のオンライン診療で、お子さまの予防接種歴を確認します。',
      descriptionEn: "Checking your child's vaccinations in a night or holiday online consultation.",
      dpv: 'dpv:ServiceProvision',
    });
    await mapCategory(tx, SENDAI, { entityType: 'VaccinationRecord', category: 'vaccination' });
    await defineLegalHold(tx, SENDAI, {
      entityType: 'VaccinationRecord',
      lawJa: '予防接種法施行令 第6条の2（予防接種に関する記録の保存 5年）',
      lawEn: 'Immunization Act Enforcement Order, art. 6-2 (records kept five years)',
      period: 'P5Y',
    });
    await declareServiceRequest(tx, SENDAI, {
      clientId,
      controller: '医療法人 仙台こどもクリニック（デモ）',
      controllerKind: 'private',
      items: [
        {
          category: 'vaccination',
          purpose: 'telemedicine',
          retention: 'P30D',
          thirdParty: true,
          legalBasis: 'consent',
        },
      ],
    });
  });
  await residentImporter(db, keys, { contextTimeoutMs: 5000, contextMaxBytes: 1024 * 1024 })(
    SENDAI,
    residentId,
    [
      {
        id: RECORD,
        type: 'VaccinationRecord',
        vaccine: { type: 'Property', value: 'BCG' },
        dose: { type: 'Property', value: 1 },
        vaccinatedOn: { type: 'Property', value: { '@type': 'Date', '@value': '2026-05-12' } },
      },
    ],
  );
  await consentAsResident(db, box, { accountId: residentId, clientId, keys: ['vaccination:telemedicine'] });
  await db.withTenant(SENDAI, (tx) =>
    appendAccess(tx, SENDAI, {
      resident: residentId,
      actor: { kind: 'client', id: clientId, name: CLINIC },
      purpose: 'telemedicine',
      categories: ['vaccination'],
      entities: [RECORD],
      action: 'read',
      decision: 'allow',
      reason: 'consent',
    }),
  );
}
