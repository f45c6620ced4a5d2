/**
 * Personal entities in the NGSI-LD broker under the residents' consent, attacked through the real
 * API with real tokens: a maternal-child handbook app writes a child's vaccination record for the
 * parent; a telemedicine clinic reads it only with the parent's consent, for the consented purpose,
 * only the consented categories, never another resident's, and not after the consent is withdrawn.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { markEntityTypes } from '../../src/broker/index.ts';
import {
  declareServiceRequest,
  definePurpose,
  describeAccess,
  listAccessLog,
  mapCategory,
  verifyAccessLog,
  withdrawConsent,
} from '../../src/consent/index.ts';
import { addResident, type IdentityRig, type Rp, relyingParty, startIdentityRig } from '../identity/rig.ts';
import { consentItem, type PersonalBroker, personalBroker, SENDAI } from './broker-helpers.ts';

const RECORD = 'urn:ngsi-ld:VaccinationRecord:child-1';

describe('personal entities in the broker under consent', () => {
  let rig: IdentityRig;
  let handbook: Rp;
  let clinic: Rp;
  let parent: { id: string; email: string };
  let other: { id: string; email: string };

  let tokenFor: PersonalBroker['tokenFor'];
  let call: PersonalBroker['call'];

  const record = {
    id: RECORD,
    type: 'VaccinationRecord',
    vaccine: { type: 'Property', value: 'BCG' },
    clinicNote: { type: 'Property', value: '接種後の発熱なし' },
  };

  let handbookToken: string;
  let clinicToken: string;

  before(async () => {
    rig = await startIdentityRig();
    ({ tokenFor, call } = personalBroker(rig));
    const db = rig.testDb.db;
    handbook = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/handbook/callback',
      serviceAccess: true,
    });
    clinic = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/clinic/callback',
      serviceAccess: true,
    });
    await markEntityTypes(db, SENDAI, { personal: ['VaccinationRecord'] });
    await db.withTenant(SENDAI, async (tx) => {
      for (const [id, nameJa] of [
        ['child-rearing', '子育て支援'],
        ['telemedicine', '医療相談'],
      ] as const) {
        await definePurpose(tx, SENDAI, { id, nameJa, nameEn: id, descriptionJa: nameJa, descriptionEn: id });
      }
      await mapCategory(tx, SENDAI, { entityType: 'VaccinationRecord', category: 'vaccination' });
      await mapCategory(tx, SENDAI, {
        entityType: 'VaccinationRecord',
        attribute: 'clinicNote',
        category: 'health',
      });
      const item = consentItem;
      await declareServiceRequest(tx, SENDAI, {
        clientId: handbook.clientId,
        controller: '母子手帳アプリ株式会社',
        controllerKind: 'private',
        items: [
          item('vaccination', 'child-rearing', ['read', 'write']),
          item('health', 'child-rearing', ['read', 'write']),
        ],
      });
      await declareServiceRequest(tx, SENDAI, {
        clientId: clinic.clientId,
        controller: '仙台こどもクリニック',
        controllerKind: 'private',
        items: [item('vaccination', 'telemedicine', ['read']), item('health', 'telemedicine', ['read'])],
      });
    });
    parent = await addResident(rig, '青葉 花子');
    other = await addResident(rig, '宮城野 太郎');
    handbookToken = await tokenFor(handbook, parent, ['vaccination:child-rearing', 'health:child-rearing']);
    // The parent logs in to the clinic's service, granting nothing yet.
    clinicToken = await tokenFor(clinic, parent);
  });
  after(() => rig.close());

  it("writes a personal entity only for a stated, consented purpose, as the resident's", async () => {
    const noPurpose = await call(handbookToken, 'entities', { method: 'POST', body: record });
    assert.equal(noPurpose.status, 403);
    assert.match(((await noPurpose.json()) as { detail: string }).detail, /Machi-Purpose/);
    const unconsented = await call(clinicToken, 'entities', {
      method: 'POST',
      body: record,
      purpose: 'telemedicine',
    });
    assert.equal(unconsented.status, 403, 'the clinic may not write vaccination records');
    const created = await call(handbookToken, 'entities', {
      method: 'POST',
      body: record,
      purpose: 'child-rearing',
    });
    assert.equal(created.status, 201, await created.text());
  });

  it('hides the record from a service without consent, by id and in queries', async () => {
    assert.equal((await call(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' })).status, 404);
    const query = await call(clinicToken, 'entities?type=VaccinationRecord&count=true', {
      purpose: 'telemedicine',
    });
    assert.equal(query.headers.get('ngsild-results-count'), '0');
  });

  it('shows only the consented categories, for the consented purpose only', async () => {
    // On the consent screen again, the parent ticks vaccination records only (not health).
    clinicToken = await tokenFor(clinic, parent, ['vaccination:telemedicine']);
    const read = await call(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' });
    assert.equal(read.status, 200);
    const body = (await read.json()) as Record<string, unknown>;
    assert.deepEqual((body.vaccine as { value: string }).value, 'BCG');
    assert.equal(body.clinicNote, undefined, 'health is not consented: the note is not shown');
    assert.equal((await call(clinicToken, `entities/${RECORD}`, { purpose: 'child-rearing' })).status, 404);
    assert.equal((await call(clinicToken, `entities/${RECORD}`)).status, 404, 'no purpose, no personal data');
  });

  it('refuses filters on hidden attributes, so a count tells nothing the entities would not', async () => {
    const probe = await call(
      clinicToken,
      'entities?type=VaccinationRecord&count=true&q=clinicNote~=%22.*%22',
      {
        purpose: 'telemedicine',
      },
    );
    assert.equal(probe.status, 403);
    assert.match(((await probe.json()) as { detail: string }).detail, /filters on .*clinicNote/);
    const visible = await call(
      clinicToken,
      'entities?type=VaccinationRecord&count=true&q=vaccine==%22BCG%22',
      {
        purpose: 'telemedicine',
      },
    );
    assert.equal(visible.headers.get('ngsild-results-count'), '1');
    const [entity] = (await visible.json()) as Record<string, unknown>[];
    assert.equal(entity?.clinicNote, undefined);
  });

  it("never shows one resident's record to a service acting for another, or acting as itself", async () => {
    const token = await tokenFor(clinic, other, ['vaccination:telemedicine', 'health:telemedicine']);
    assert.equal((await call(token, `entities/${RECORD}`, { purpose: 'telemedicine' })).status, 404);
    const query = await call(token, 'entities?type=VaccinationRecord&count=true', {
      purpose: 'telemedicine',
    });
    assert.equal(query.headers.get('ngsild-results-count'), '0');
    const { access_token } = await oidc.clientCredentialsGrant(clinic.config, {});
    assert.equal((await call(access_token, `entities/${RECORD}`, { purpose: 'telemedicine' })).status, 404);
  });

  it("writes every decision on the parent's records into the parent's access log", async () => {
    const log = await rig.testDb.db.withTenant(SENDAI, (tx) =>
      listAccessLog(tx, SENDAI, parent.id, { limit: 100 }),
    );
    const lines = log.map((r) =>
      describeAccess(r, 'ja', {
        categories: { vaccination: { nameJa: '予防接種記録', nameEn: 'vaccination records' } },
      }),
    );
    const clinicReads = log.filter((r) => r.actor.id === clinic.clientId && r.action === 'read');
    assert.ok(clinicReads.some((r) => r.decision === 'allow' && r.categories.join() === 'vaccination'));
    assert.ok(
      log.some((r) => r.actor.id === clinic.clientId && r.decision === 'deny' && r.entities.includes(RECORD)),
      'the read before consent, and the other resident’s attempt, are there as refused',
    );
    assert.ok(
      log.some((r) => r.actor.id === handbook.clientId && r.action === 'write' && r.decision === 'allow'),
    );
    assert.ok(
      lines.some((line) => /テストサービス が 予防接種記録 を 閲覧しました（目的: telemedicine）/.test(line)),
      lines.join('\n'),
    );
    const report = await verifyAccessLog(rig.testDb.db, rig.box, { tenant: SENDAI });
    assert.equal(report.ok, true, JSON.stringify(report));
  });

  it('lets a service as itself query exactly the records of residents who consented, attributes as each allows', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(clinic.config, {});
    const all = await call(access_token, 'entities?type=VaccinationRecord&count=true', {
      purpose: 'telemedicine',
    });
    assert.equal(
      all.headers.get('ngsild-results-count'),
      '1',
      'the parent consented; the other resident has no record',
    );
    const [entity] = (await all.json()) as Record<string, unknown>[];
    assert.equal((entity?.vaccine as { value: string } | undefined)?.value, 'BCG');
    assert.equal(
      entity?.clinicNote,
      undefined,
      'the parent did not consent to health: the note stays hidden',
    );
    const probe = await call(
      access_token,
      'entities?type=VaccinationRecord&count=true&q=clinicNote~=%22.*%22',
      {
        purpose: 'telemedicine',
      },
    );
    assert.equal(
      probe.headers.get('ngsild-results-count'),
      '0',
      'a filter on health reaches only residents who allow it',
    );
    const wrongPurpose = await call(access_token, 'entities?type=VaccinationRecord&count=true', {
      purpose: 'child-rearing',
    });
    assert.equal(wrongPurpose.headers.get('ngsild-results-count'), '0');
  });

  it('stops at the next request once the resident withdraws', async () => {
    assert.equal((await call(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' })).status, 200);
    await rig.testDb.db.withTenant(SENDAI, (tx) =>
      withdrawConsent(tx, { tenant: SENDAI, resident: parent.id, clientId: clinic.clientId }),
    );
    assert.equal((await call(clinicToken, `entities/${RECORD}`, { purpose: 'telemedicine' })).status, 404);
    const query = await call(clinicToken, 'entities?type=VaccinationRecord&count=true', {
      purpose: 'telemedicine',
    });
    assert.equal(query.headers.get('ngsild-results-count'), '0');
    const { access_token } = await oidc.clientCredentialsGrant(clinic.config, {});
    const asService = await call(access_token, 'entities?type=VaccinationRecord&count=true', {
      purpose: 'telemedicine',
    });
    assert.equal(asService.headers.get('ngsild-results-count'), '0');
  });
});
