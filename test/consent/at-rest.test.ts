/**
 * 要配慮個人情報 at rest (issue 5 item 7): a maternal-child handbook app writes pregnancy records
 * for two residents; the values of their sensitive categories (pregnancy, health) are stored sealed
 * with the municipality's data key, so a dump of every table shows none of them, while services the
 * residents allow read them back and filter on them through the NGSI-LD API. A master key is
 * rotated by rewrapping the data key; a wrong master key stops the start.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { StoredEntity } from '../../src/broker/entities/model.ts';
import { markEntityTypes } from '../../src/broker/index.ts';
import { openAttributes } from '../../src/broker/sealed.ts';
import { declareServiceRequest, definePurpose, mapCategory } from '../../src/consent/index.ts';
import { buildApp } from '../../src/main.ts';
import { DataKeys, type Db, EnvelopeError, MasterKeys, masterKeyId } from '../../src/platform/index.ts';
import { backend, testConfig } from '../helpers/db.ts';
import {
  addResident,
  type IdentityRig,
  type Rp,
  relyingParty,
  settleConnections,
  startIdentityRig,
} from '../identity/rig.ts';
import { consentItem, type PersonalBroker, personalBroker, SENDAI } from './broker-helpers.ts';

const D = 'https://uri.etsi.org/ngsi-ld/default-context/';
const id = (n: string) => `urn:ngsi-ld:MaternalRecord:${n}`;
/** Texts and numbers no timestamp, id, key or ciphertext could hold by chance. */
const secretNote = (n: string) => `つわりが強い-${n}`;
const secretMemo = (n: string) => `葉酸を処方-${n}`;
const WEEKS: Record<string, number> = {
  a: 12.111111111,
  b: 24.222222222,
  c: 33.333333333,
  d: 30.444444444,
  e: 8.555555555,
};
const SECRETS = [
  ...Object.keys(WEEKS).flatMap((n) => [secretNote(n), secretMemo(n)]),
  '.111111111',
  '.222222222',
  '.333333333',
  '.444444444',
  '.555555555',
  '140.87123',
  '38.26823',
];

function record(n: string) {
  return {
    id: id(n),
    type: 'MaternalRecord',
    gestationalWeeks: { type: 'Property', value: WEEKS[n], unitCode: 'WEE' },
    checkup: {
      type: 'Property',
      value: secretNote(n),
      observedAt: '2026-11-20T05:00:00Z',
      memo: { type: 'Property', value: secretMemo(n) },
    },
    nickname: { type: 'Property', value: `nick-${n}` },
    homeLocation: { type: 'GeoProperty', value: { type: 'Point', coordinates: [140.87123, 38.26823] } },
  };
}

/** Every row of every table, as text: what a dump of the database holds. */
async function dump(db: Db): Promise<string> {
  const { rows: tables } = await db.query<{ name: string }>(
    `select format('%I.%I', table_schema, table_name) as name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
        and table_name <> 'spatial_ref_sys'`,
  );
  const lines: string[] = [];
  for (const { name } of tables) {
    const { rows } = await db.query<{ row: string }>(`select row_to_json(t)::text as row from ${name} t`);
    lines.push(...rows.map((r) => `${name} ${r.row}`));
  }
  return lines.join('\n');
}

async function storedEntity(db: Db, entityId: string): Promise<StoredEntity> {
  const { rows } = await db.query<StoredEntity>(
    'select id, types, scopes, attrs from broker.entities where tenant_id = $1 and id = $2',
    [SENDAI, entityId],
  );
  return rows[0] as StoredEntity;
}

const dataKeyRow = async (db: Db) =>
  (
    await db.query<{ master_key_id: string; wrapped: string }>(
      'select master_key_id, wrapped from platform.data_keys where tenant_id = $1',
      [SENDAI],
    )
  ).rows;

describe(`要配慮個人情報 encrypted at rest in the broker (${backend})`, () => {
  let rig: IdentityRig;
  let broker: PersonalBroker;
  let handbook: Rp;
  let clinic: Rp;
  let handbookToken: string;
  let clinicToken: string;
  const NEW_MASTER_KEY = randomBytes(32);

  const asHandbook = (path: string, init: { method?: string; body?: unknown } = {}) =>
    broker.call(handbookToken, path, { ...init, purpose: 'child-rearing' });
  const clinicAsItself = async (path: string) => {
    const { access_token } = await oidc.clientCredentialsGrant(clinic.config, {});
    return broker.call(access_token, path, { purpose: 'telemedicine' });
  };
  const ids = async (response: Response) => {
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { id: string }[]).map((e) =>
      e.id.replace('urn:ngsi-ld:MaternalRecord:', ''),
    );
  };
  /** The app again on the same database and port, with other settings, as a restart would be. */
  let running = true;
  const restart = async (env: Record<string, string> = {}) => {
    if (running) await rig.app.close();
    running = false;
    const port = new URL(rig.baseUrl).port;
    const config = testConfig({ PORT: port, PUBLIC_URL: rig.baseUrl, ...env });
    rig.app = await buildApp({ config, db: rig.testDb.db, box: rig.box });
    running = true;
    await rig.app.listen({ host: '127.0.0.1', port: Number(port) });
    await settleConnections(rig.baseUrl);
  };

  before(async () => {
    rig = await startIdentityRig();
    broker = personalBroker(rig);
    const db = rig.testDb.db;
    handbook = await relyingParty(rig, {
      redirectUri: 'http://127.0.0.1:9/handbook/cb',
      serviceAccess: true,
    });
    clinic = await relyingParty(rig, { redirectUri: 'http://127.0.0.1:9/clinic/cb', serviceAccess: true });
    await markEntityTypes(db, SENDAI, { personal: ['MaternalRecord'] });
    await db.withTenant(SENDAI, async (tx) => {
      for (const purpose of ['child-rearing', 'telemedicine']) {
        await definePurpose(tx, SENDAI, {
          id: purpose,
          nameJa: purpose,
          nameEn: purpose,
          descriptionJa: purpose,
          descriptionEn: purpose,
        });
      }
      await mapCategory(tx, SENDAI, { entityType: 'MaternalRecord', category: 'pregnancy' });
      await mapCategory(tx, SENDAI, {
        entityType: 'MaternalRecord',
        attribute: 'checkup',
        category: 'health',
      });
      await mapCategory(tx, SENDAI, {
        entityType: 'MaternalRecord',
        attribute: 'nickname',
        category: 'profile',
      });
      const all = ['pregnancy', 'health', 'profile'];
      await declareServiceRequest(tx, SENDAI, {
        clientId: handbook.clientId,
        controller: '母子手帳アプリ株式会社',
        controllerKind: 'private',
        items: all.map((c) => consentItem(c, 'child-rearing', ['read', 'write'])),
      });
      await declareServiceRequest(tx, SENDAI, {
        clientId: clinic.clientId,
        controller: '仙台こどもクリニック',
        controllerKind: 'private',
        items: all.map((c) => consentItem(c, 'telemedicine', ['read'])),
      });
    });
    const parent = await addResident(rig, '青葉 花子');
    const other = await addResident(rig, '宮城野 桜');
    const handbookItems = ['pregnancy:child-rearing', 'health:child-rearing', 'profile:child-rearing'];
    const otherToken = await broker.tokenFor(handbook, other, handbookItems);
    handbookToken = await broker.tokenFor(handbook, parent, handbookItems);
    // Both residents let the clinic see pregnancy records and profiles, not health.
    clinicToken = await broker.tokenFor(clinic, parent, ['pregnancy:telemedicine', 'profile:telemedicine']);
    await broker.tokenFor(clinic, other, ['pregnancy:telemedicine', 'profile:telemedicine']);

    // A subscription to every change of a checkup: its notifications are queued with the entity.
    const { access_token } = await oidc.clientCredentialsGrant(clinic.config, {});
    const subscribed = await broker.call(access_token, 'subscriptions', {
      method: 'POST',
      body: {
        type: 'Subscription',
        watchedAttributes: ['checkup'],
        notification: { endpoint: { uri: 'http://127.0.0.1:9/notify', accept: 'application/json' } },
      },
    });
    assert.equal(subscribed.status, 201, await subscribed.text());
    for (const n of ['a', 'b', 'c', 'e']) {
      const created = await asHandbook('entities', { method: 'POST', body: record(n) });
      assert.equal(created.status, 201, await created.text());
    }
    const created = await broker.call(otherToken, 'entities', {
      method: 'POST',
      body: record('d'),
      purpose: 'child-rearing',
    });
    assert.equal(created.status, 201, await created.text());
    // An ordinary (not personal) entity with an attribute of the same name.
    const statistic = await broker.call(access_token, 'entities', {
      method: 'POST',
      body: {
        id: 'urn:ngsi-ld:Statistic:weeks',
        type: 'Statistic',
        gestationalWeeks: { type: 'Property', value: 25 },
      },
    });
    assert.equal(statistic.status, 201, await statistic.text());
  });
  after(() => rig.close());

  it('leaves no value of a sensitive category in any table: entities, history, geometries, notification jobs', async () => {
    const db = rig.testDb.db;
    const text = await dump(db);
    for (const secret of SECRETS) {
      assert.ok(
        !text.includes(secret),
        `the dump holds ${secret}:\n${text
          .split('\n')
          .filter((l) => l.includes(secret))
          .join('\n')}`,
      );
    }
    // What is not sensitive stays readable, and the dump did reach the records and what followed them.
    assert.ok(text.includes('nick-a'), 'the profile category is not sealed');
    assert.ok(text.includes(id('a')) && /"sealed": ?"e1\./.test(text));
    const history = await db.query<{ n: number }>(
      `select count(*)::int as n from broker.attribute_instances where entity_id = $1 and value ? 'sealed'`,
      [id('a')],
    );
    assert.equal(history.rows[0]?.n, 3, 'each sensitive attribute has a sealed history row');
    const jobs = await db.query<{ n: number }>(
      `select count(*)::int as n from platform.jobs where queue = 'broker.notify' and payload::text like '%MaternalRecord%'`,
    );
    assert.ok((jobs.rows[0]?.n ?? 0) > 0, 'the notification jobs were queued, sealed');
    const geo = await db.query<{ n: number }>(
      'select count(*)::int as n from broker.geo where entity_id = $1',
      [id('a')],
    );
    assert.equal(geo.rows[0]?.n, 0, 'a sealed geometry is not indexed');
    const stored = await storedEntity(db, id('a'));
    assert.deepEqual(Object.keys(stored.attrs[`${D}checkup`]?.[0] ?? {}).sort(), [
      'createdAt',
      'modifiedAt',
      'observedAt',
      'sealed',
      'type',
    ]);
  });

  it('shows the values decrypted to a service the resident allows, only the categories allowed', async () => {
    const read = await asHandbook(`entities/${id('b')}`);
    assert.equal(read.status, 200);
    const body = (await read.json()) as Record<string, Record<string, unknown>>;
    assert.deepEqual(body.gestationalWeeks, { type: 'Property', value: WEEKS.b, unitCode: 'WEE' });
    assert.deepEqual(body.checkup, {
      type: 'Property',
      value: secretNote('b'),
      observedAt: '2026-11-20T05:00:00.000Z',
      memo: { type: 'Property', value: secretMemo('b') },
    });
    assert.deepEqual(body.homeLocation?.value, { type: 'Point', coordinates: [140.87123, 38.26823] });
    const clinicRead = await broker.call(clinicToken, `entities/${id('b')}`, { purpose: 'telemedicine' });
    const seen = (await clinicRead.json()) as Record<string, Record<string, unknown>>;
    assert.equal(seen.gestationalWeeks?.value, WEEKS.b);
    assert.equal(seen.checkup, undefined, 'health is not allowed to the clinic');
  });

  it('filters on sealed attributes with the right entities, counts and pages', async () => {
    const q = (query: string) => asHandbook(`entities?type=MaternalRecord&count=true&${query}`);
    const over20 = await q('q=gestationalWeeks>20');
    assert.equal(over20.headers.get('ngsild-results-count'), '2');
    assert.deepEqual(await ids(over20), ['b', 'c']);
    const second = await q('q=gestationalWeeks>20&limit=1&offset=1');
    assert.equal(second.headers.get('ngsild-results-count'), '2');
    assert.deepEqual(await ids(second), ['c']);
    assert.deepEqual(await ids(await q(`q=gestationalWeeks>20;nickname==%22nick-b%22`)), ['b']);
    assert.deepEqual(await ids(await q(`q=checkup~=%22${encodeURIComponent('強い-[ac]')}%22`)), ['a', 'c']);
    assert.deepEqual(await ids(await q(`q=checkup.memo==%22${encodeURIComponent(secretMemo('c'))}%22`)), [
      'c',
    ]);
    assert.deepEqual(await ids(await q('q=gestationalWeeks<20|nickname==%22nick-c%22')), ['a', 'c', 'e']);
    // Without a type: the ordinary entity is filtered by the database, in the same id order and count.
    const anyType = await asHandbook('entities?q=gestationalWeeks>20&count=true&limit=2&offset=1');
    assert.equal(anyType.headers.get('ngsild-results-count'), '3');
    assert.deepEqual(await ids(anyType), ['c', 'urn:ngsi-ld:Statistic:weeks']);
    const tooComplex = await q('q=checkup~=%22(a%2B)%2B%22');
    assert.equal(tooComplex.status, 403);
  });

  it('filters for a service as itself across the residents who allow it', async () => {
    const all = await clinicAsItself('entities?type=MaternalRecord&count=true&q=gestationalWeeks>20&limit=2');
    assert.equal(all.headers.get('ngsild-results-count'), '3');
    assert.deepEqual(await ids(all), ['b', 'c']);
    const rest = await clinicAsItself(
      'entities?type=MaternalRecord&count=true&q=gestationalWeeks>20&offset=2',
    );
    assert.deepEqual(await ids(rest), ['d']);
    const health = await clinicAsItself('entities?type=MaternalRecord&count=true&q=checkup~=%22.*%22');
    assert.equal(health.headers.get('ngsild-results-count'), '0', 'nobody allows the clinic health');
  });

  it('refuses a geo-query on a sealed GeoProperty', async () => {
    const response = await asHandbook(
      'entities?type=MaternalRecord&georel=near;maxDistance==1000&geometry=Point&coordinates=[140.87,38.26]&geoproperty=homeLocation',
    );
    assert.equal(response.status, 422);
    const problem = (await response.json()) as { type: string; detail: string };
    assert.equal(problem.type, 'https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported');
    assert.match(problem.detail, /homeLocation.*encrypted/);
  });

  it('fails a read of an altered value instead of answering garbage', async () => {
    const db = rig.testDb.db;
    const stored = await storedEntity(db, id('e'));
    const instance = stored.attrs[`${D}checkup`]?.[0] as { sealed: string };
    const flipped =
      instance.sealed.slice(0, -2) + (instance.sealed.endsWith('A') ? 'B' : 'A') + instance.sealed.slice(-1);
    await db.query(
      `update broker.entities set attrs = jsonb_set(attrs, array[$1, '0', 'sealed'], to_jsonb($2::text))
        where tenant_id = $3 and id = $4`,
      [`${D}checkup`, flipped, SENDAI, id('e')],
    );
    const read = await asHandbook(`entities/${id('e')}`);
    assert.equal(read.status, 500);
    assert.ok(!(await read.text()).includes('つわり'));
  });

  it('rotates the master key by rewrapping the data key: the data stays as stored, and readable', async () => {
    const db = rig.testDb.db;
    const [before] = await dataKeyRow(db);
    assert.equal(before?.master_key_id, masterKeyId(rig.box.derive('platform.data-keys')));
    const sealedBefore = JSON.stringify((await storedEntity(db, id('b'))).attrs);

    await restart({ MACHI_DATA_MASTER_KEYS: NEW_MASTER_KEY.toString('base64') });
    const [after] = await dataKeyRow(db);
    assert.equal(after?.master_key_id, masterKeyId(NEW_MASTER_KEY));
    assert.notEqual(after?.wrapped, before?.wrapped);
    assert.equal(
      JSON.stringify((await storedEntity(db, id('b'))).attrs),
      sealedBefore,
      'the data is not re-encrypted',
    );
    const read = await asHandbook(`entities/${id('b')}`);
    assert.equal(((await read.json()) as { checkup: { value: string } }).checkup.value, secretNote('b'));

    // The new master key alone opens everything now.
    const alone = new DataKeys(new MasterKeys([NEW_MASTER_KEY]));
    await alone.check(db);
    const sealed = await storedEntity(db, id('c'));
    const [opened] = await db.withTenant(SENDAI, (tx) => openAttributes(tx, alone, SENDAI, [sealed]));
    assert.equal(opened?.attrs[`${D}checkup`]?.[0]?.value, secretNote('c'));
  });

  it('refuses to start, naming the key, with master keys that did not wrap the data keys', async () => {
    const db = rig.testDb.db;
    // Back to the key derived from MACHI_SECRET_KEY only: the data key is wrapped by the new one now.
    await assert.rejects(restart(), (error: Error) => {
      assert.ok(error instanceof EnvelopeError);
      assert.match(
        error.message,
        new RegExp(`wrapped by master key ${masterKeyId(NEW_MASTER_KEY)}, which is not configured`),
      );
      return true;
    });
    // A process that reads with a wrong key fails on the first sensitive read, as clearly.
    const wrong = new DataKeys(new MasterKeys([randomBytes(32)]));
    await assert.rejects(
      db.withTenant(SENDAI, (tx) => wrong.forTenant(tx, SENDAI)),
      /the data key of tenant 041009 cannot be opened: .*not configured/,
    );
    await restart({ MACHI_DATA_MASTER_KEYS: NEW_MASTER_KEY.toString('base64') });
    const read = await asHandbook(`entities/${id('a')}`);
    assert.equal(read.status, 200);
  });
});
