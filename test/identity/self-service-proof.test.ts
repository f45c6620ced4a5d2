/**
 * The proof of a re-authentication that the self-service forms carry: it opens only for the
 * purpose and the browser it was issued to, ends after ten minutes (an earlier end is kept when a
 * page is shown again), and says nothing readable about the account.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { FORM_COOKIE } from '../../src/identity/self-service/csrf.ts';
import { PROOF_SECONDS, proofKeeper } from '../../src/identity/self-service/proof.ts';
import { parseMasterKey, SecretBox } from '../../src/platform/index.ts';
import { TEST_SECRET_KEY } from '../helpers/db.ts';
import { altered } from './account-pages.ts';

const ACCOUNT = '0b6c4d1e-1a2b-4c3d-8e9f-001122334455';
const browser = (cookie?: string) =>
  ({ cookies: cookie ? { [FORM_COOKIE]: cookie } : {} }) as unknown as FastifyRequest;

describe('re-authentication proofs of the self-service pages', () => {
  const box = new SecretBox(parseMasterKey(TEST_SECRET_KEY));
  let clock = Date.UTC(2030, 0, 1);
  const proofs = proofKeeper(box, () => clock);
  const mine = browser('a'.repeat(32));

  it('opens for its purpose and browser until it ends', () => {
    const proof = proofs.issue(mine, 'passkeys', ACCOUNT);
    assert.ok(!proof.includes(ACCOUNT), 'the account is sealed, not shown');
    const expires = clock / 1000 + PROOF_SECONDS;
    assert.deepEqual(proofs.check(mine, 'passkeys', proof), { accountId: ACCOUNT, expires });
    assert.equal(proofs.check(mine, 'authenticator', proof), undefined, 'another purpose');
    assert.equal(proofs.check(browser('b'.repeat(32)), 'passkeys', proof), undefined, 'another browser');
    assert.equal(proofs.check(browser(), 'passkeys', proof), undefined, 'no cookie');
    assert.equal(proofs.check(mine, 'passkeys', altered(proof)), undefined, 'altered');
    assert.equal(proofs.check(mine, 'passkeys', undefined), undefined);
    const other = proofKeeper(new SecretBox(Buffer.alloc(32, 9)), () => clock);
    assert.equal(other.check(mine, 'passkeys', proof), undefined, "another deployment's key");

    clock += (PROOF_SECONDS - 1) * 1000;
    const shownAgain = proofs.issue(mine, 'passkeys', ACCOUNT, expires);
    assert.equal(
      proofs.check(mine, 'passkeys', shownAgain)?.expires,
      expires,
      'showing a page again keeps the end',
    );
    clock += 1000;
    assert.equal(proofs.check(mine, 'passkeys', proof), undefined, 'ended');
    assert.equal(proofs.check(mine, 'passkeys', shownAgain), undefined, 'ended too');
  });

  it('is issued only to a browser that has the form cookie', () => {
    assert.throws(() => proofs.issue(browser(), 'authenticator', ACCOUNT));
  });
});
