/**
 * Registering services (OIDC clients): what staff may register, and the clear refusal of what they
 * may not, before anything is stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listClients, registerClient } from '../../src/identity/index.ts';
import { addTenant, BadRequest, NotFound, openSecretBox, type SecretBox } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb, testConfig } from '../helpers/db.ts';

describe(`client registration (${backend})`, () => {
  let t: TestDb;
  let box: SecretBox;
  before(async () => {
    t = await createTestDb();
    box = await openSecretBox(testConfig());
    await addTenant(t.db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
    await addTenant(t.db, { code: '041009', name: '仙台市', nameEn: 'Sendai City' });
  });
  after(() => t.close());

  const base = { tenantCode: '041009', name: '子育てアプリ', redirectUris: ['https://app.example/cb'] };

  it('registers a confidential client with a secret, and a public one without', async () => {
    const confidential = await registerClient(t.db, box, base);
    assert.ok(confidential.clientSecret && confidential.clientSecret.length >= 40);
    const phone = await registerClient(t.db, box, { ...base, public: true });
    assert.equal(phone.clientSecret, undefined);
    const listed = await listClients(t.db, '041009');
    assert.deepEqual(listed.map((c) => c.clientId).sort(), [confidential.clientId, phone.clientId].sort());
  });

  it('refuses each malformed registration with a message saying what is wrong, storing nothing', async () => {
    const before = (await listClients(t.db, '041009')).length;
    const cases: [Partial<Parameters<typeof registerClient>[2]>, RegExp, { production?: boolean }?][] = [
      [{ redirectUris: ['not a url'] }, /redirect URI "not a url" is not a URL/],
      [{ redirectUris: ['https://app.example/cb#frag'] }, /must not have a fragment/],
      [{ redirectUris: ['http://app.example/cb'] }, /must use https/, { production: true }],
      [{ scopes: ['openid', 'my_number'] }, /unknown scopes my_number/],
      [{ redirectUris: [] }, /at least one redirect URI/],
      [{ public: true, serviceAccess: true }, /public client cannot call the APIs/],
      [{ name: '  ' }, /needs a name/],
    ];
    for (const [change, message, options] of cases) {
      await assert.rejects(
        registerClient(t.db, box, { ...base, ...change }, { production: options?.production ?? false }),
        (error: unknown) => error instanceof BadRequest && message.test(error.message),
        String(message),
      );
    }
    await assert.rejects(registerClient(t.db, box, { ...base, tenantCode: '999999' }), NotFound);
    assert.equal((await listClients(t.db, '041009')).length, before);
  });

  it('accepts plain http only for loopback redirect URIs in production', async () => {
    const local = await registerClient(
      t.db,
      box,
      { ...base, redirectUris: ['http://127.0.0.1:8000/cb'] },
      { production: true },
    );
    assert.ok(local.clientId);
  });
});
