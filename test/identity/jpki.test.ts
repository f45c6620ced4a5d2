import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CardLoginInput,
  createJpkiVerifier,
  issueChallenge,
  JpkiError,
  type JpkiErrorCode,
  JpkiVerifier,
  jpkiConfig,
  loadJpkiConfig,
  sweepJpkiChallenges,
  verifyCardLogin,
} from '../../src/identity/jpki/index.ts';
import { ConfigError, OutboundPolicy } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb, testConfig } from '../helpers/db.ts';
import { makeTestJpki, type TestCard, type TestJpki } from './jpki-fixtures.ts';

const policy = new OutboundPolicy(testConfig());

function rejectsWith(promise: Promise<unknown>, code: JpkiErrorCode) {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof JpkiError, `expected a JpkiError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe(`My Number Card login (${backend})`, () => {
  let t: TestDb;
  let jpki: TestJpki;
  /** A CRL-only verifier, shared so its cache is warm. */
  let crlVerifier: JpkiVerifier;

  before(async () => {
    [t, jpki] = await Promise.all([createTestDb(), makeTestJpki()]);
    crlVerifier = new JpkiVerifier(jpkiConfig({ caCertificates: jpki.caPem }), policy);
  });
  after(async () => {
    await Promise.all([t.close(), jpki.close()]);
  });

  /** A verifier with a cold cache, for tests about revocation sources. */
  const freshVerifier = (options: Parameters<typeof jpkiConfig>[0] | object = {}, outbound = policy) =>
    new JpkiVerifier(jpkiConfig({ caCertificates: jpki.caPem, ...options }), outbound);

  async function login(card: TestCard, verifier = crlVerifier) {
    return verifyCardLogin(t.db, verifier, await card.answer(await issueChallenge(t.db)));
  }

  describe('a good card', () => {
    it('logs in and names the certificate only by its binding hash', async () => {
      const { good } = jpki.cards;
      const result = await login(good);
      assert.deepEqual(Object.keys(result).sort(), ['bindingHash', 'issuer', 'notAfter', 'revocation']);
      assert.equal(result.bindingHash, good.bindingHash);
      assert.match(result.bindingHash, /^[0-9a-f]{64}$/);
      assert.equal(result.issuer, 'C=JP, O=JPKI-TEST, OU=JPKI for user authentication');
      assert.ok(result.notAfter.getTime() > Date.now());
      assert.equal(result.revocation.method, 'crl');
      assert.ok(Math.abs(result.revocation.checkedAt.getTime() - Date.now()) < 60_000);
      assert.ok(!JSON.stringify(result).includes(good.subjectCn), 'the subject never leaves the verifier');
    });

    it('gives the same hash for the same card every time, PEM or DER, and another for another card', async () => {
      const { good, other } = jpki.cards;
      const first = await login(good);
      const again = await verifyCardLogin(t.db, crlVerifier, {
        ...(await good.answer(await issueChallenge(t.db))),
        certificate: good.pem,
      });
      const second = await login(other);
      assert.equal(again.bindingHash, first.bindingHash);
      assert.notEqual(second.bindingHash, first.bindingHash);
      assert.equal(second.bindingHash, other.bindingHash);
    });
  });

  describe('challenges', () => {
    it('issues 32 random bytes as base64url that expire after the given seconds', async () => {
      const before = Date.now();
      const a = await issueChallenge(t.db, { seconds: 120 });
      const b = await issueChallenge(t.db);
      assert.equal(Buffer.from(a.challenge, 'base64url').length, 32);
      assert.match(a.challenge, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(a.challenge, b.challenge);
      assert.notEqual(a.id, b.id);
      const lifetime = a.expiresAt.getTime() - before;
      assert.ok(lifetime > 110_000 && lifetime < 130_000, `lifetime ${lifetime}`);
      assert.ok(b.expiresAt.getTime() - before > 290_000, 'the default is 300 seconds');
    });

    it('refuses a replayed answer: a challenge logs in once', async () => {
      const input = await jpki.cards.good.answer(await issueChallenge(t.db));
      await verifyCardLogin(t.db, crlVerifier, input);
      await rejectsWith(verifyCardLogin(t.db, crlVerifier, input), 'challenge-used');
    });

    it('lets exactly one of two simultaneous logins with one answer pass', async () => {
      const input = await jpki.cards.good.answer(await issueChallenge(t.db));
      const results = await Promise.allSettled([
        verifyCardLogin(t.db, crlVerifier, input),
        verifyCardLogin(t.db, crlVerifier, input),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((failed.reason as JpkiError).code, 'challenge-used');
    });

    it('refuses an expired challenge', async () => {
      const challenge = await issueChallenge(t.db);
      await t.db.query(
        `update identity.jpki_challenges set expires_at = now() - interval '1 second' where id = $1`,
        [challenge.id],
      );
      await rejectsWith(
        verifyCardLogin(t.db, crlVerifier, await jpki.cards.good.answer(challenge)),
        'challenge-expired',
      );
    });

    it('refuses a challenge it never issued', async () => {
      const input = await jpki.cards.good.answer({
        id: '6f1c2a4e-8b3d-4c5e-9f7a-1b2c3d4e5f60',
        challenge: Buffer.alloc(32, 1).toString('base64url'),
      });
      await rejectsWith(verifyCardLogin(t.db, crlVerifier, input), 'challenge-unknown');
    });

    it('spends the challenge on a failed attempt, so a second try needs a new one', async () => {
      const { good, other } = jpki.cards;
      const challenge = await issueChallenge(t.db);
      const bytes = Buffer.from(challenge.challenge, 'base64url');
      const wrong = {
        challengeId: challenge.id,
        signature: await other.sign(bytes),
        certificate: good.certificate,
      };
      await rejectsWith(verifyCardLogin(t.db, crlVerifier, wrong), 'bad-signature');
      await rejectsWith(verifyCardLogin(t.db, crlVerifier, await good.answer(challenge)), 'challenge-used');
    });

    it('sweeps challenges expired longer than the grace period, and only those', async () => {
      const [old, recent, current] = await Promise.all([1, 2, 3].map(() => issueChallenge(t.db)));
      await t.db.query(
        `update identity.jpki_challenges set expires_at = now() - interval '2 hours' where id = $1`,
        [old?.id],
      );
      await t.db.query(
        `update identity.jpki_challenges set expires_at = now() - interval '10 minutes' where id = $1`,
        [recent?.id],
      );
      const remaining = async () => {
        const { rows } = await t.db.query<{ id: string }>(
          'select id from identity.jpki_challenges where id = any($1::uuid[])',
          [[old?.id, recent?.id, current?.id]],
        );
        return rows.map((r) => r.id).sort();
      };
      assert.ok((await sweepJpkiChallenges(t.db)) >= 1);
      assert.deepEqual(await remaining(), [recent?.id, current?.id].sort());
      assert.ok((await sweepJpkiChallenges(t.db, { keepSeconds: 0 })) >= 1);
      assert.deepEqual(await remaining(), [current?.id]);
    });
  });

  describe('input and signature', () => {
    it('refuses malformed input without spending the challenge', async () => {
      const { good } = jpki.cards;
      const challenge = await issueChallenge(t.db);
      const input = await good.answer(challenge);
      const broken: unknown[] = [
        { ...input, signature: 'not base64!' },
        { ...input, signature: '' },
        { ...input, certificate: 'bm90IGEgY2VydGlmaWNhdGU=' },
        { ...input, certificate: input.certificate.slice(0, 200) },
        { ...input, certificate: `${input.certificate}AAAA` },
        { ...input, challengeId: 'not-a-uuid' },
        { challengeId: input.challengeId, signature: input.signature },
        { ...input, signature: 42 },
        null,
      ];
      for (const value of broken) {
        await rejectsWith(verifyCardLogin(t.db, crlVerifier, value as CardLoginInput), 'malformed');
      }
      assert.equal((await verifyCardLogin(t.db, crlVerifier, input)).bindingHash, good.bindingHash);
    });

    it('refuses a signature made with another card’s key', async () => {
      const { good, other } = jpki.cards;
      const challenge = await issueChallenge(t.db);
      const signature = await other.sign(Buffer.from(challenge.challenge, 'base64url'));
      await rejectsWith(
        verifyCardLogin(t.db, crlVerifier, {
          challengeId: challenge.id,
          signature,
          certificate: good.certificate,
        }),
        'bad-signature',
      );
    });

    it('refuses a signature over other bytes than the challenge', async () => {
      const { good } = jpki.cards;
      const challenge = await issueChallenge(t.db);
      const signature = await good.sign(Buffer.alloc(32, 7));
      await rejectsWith(
        verifyCardLogin(t.db, crlVerifier, {
          challengeId: challenge.id,
          signature,
          certificate: good.certificate,
        }),
        'bad-signature',
      );
    });
  });

  describe('the certificate', () => {
    it('refuses a card of a CA that is not configured, even one bearing the trusted CA’s name', async () => {
      await rejectsWith(login(jpki.cards.foreign), 'untrusted-certificate');
    });

    it('accepts that CA’s cards once it is configured too', async () => {
      const both = freshVerifier({ caCertificates: [jpki.caPem, jpki.foreignCaPem] });
      // Its CRL comes from the same test server but is signed by the other CA: not usable.
      await rejectsWith(login(jpki.cards.foreign, both), 'revocation-unavailable');
      assert.equal((await login(jpki.cards.good, both)).revocation.method, 'crl');
    });

    it('refuses an expired certificate', async () => {
      await rejectsWith(login(jpki.cards.expired), 'certificate-expired');
    });

    it('refuses a certificate that is not valid yet', async () => {
      await rejectsWith(login(jpki.cards.notYetValid), 'certificate-not-yet-valid');
    });

    it('refuses a certificate whose key usage does not include digitalSignature', async () => {
      await rejectsWith(login(jpki.cards.noSigning), 'wrong-key-usage');
    });
  });

  describe('revocation by CRL', () => {
    it('refuses a revoked card', async () => {
      await rejectsWith(login(jpki.cards.revoked), 'revoked');
    });

    it('keeps the CRL until its nextUpdate and fetches it again after', async () => {
      let offset = 0;
      const verifier = new JpkiVerifier(jpkiConfig({ caCertificates: jpki.caPem }), policy, {
        now: () => new Date(Date.now() + offset),
      });
      const start = jpki.crl.requests;
      await login(jpki.cards.good, verifier);
      await login(jpki.cards.other, verifier);
      assert.equal(jpki.crl.requests, start + 1);
      const card = await jpki.newCard();
      jpki.revoke(card);
      assert.equal(
        (await login(card, verifier)).revocation.method,
        'crl',
        'the cached CRL does not list it yet',
      );
      jpki.crl.lifetimeSeconds = 3 * 3600;
      offset = 2 * 3600_000;
      try {
        await rejectsWith(login(card, verifier), 'revoked');
      } finally {
        jpki.crl.lifetimeSeconds = 3600;
      }
      assert.equal(jpki.crl.requests, start + 2);
    });

    const unavailable: [string, () => void, Parameters<typeof jpkiConfig>[0] | object][] = [
      ['the CRL server is down', () => (jpki.crl.mode = 'down'), {}],
      ['the CRL server answers 500', () => (jpki.crl.mode = 'error'), {}],
      ['the CRL is past its nextUpdate', () => (jpki.crl.mode = 'stale'), {}],
      ['the CRL is signed by another key', () => (jpki.crl.mode = 'wrong-signer'), {}],
      ['the CRL is not a CRL', () => (jpki.crl.mode = 'garbage'), {}],
      ['the CRL does not come in time', () => (jpki.crl.mode = 'hang'), { revocationTimeoutMs: 300 }],
      ['the CRL is larger than allowed', () => {}, { crlMaxBytes: 100 }],
    ];
    for (const [when, breakIt, options] of unavailable) {
      it(`fails closed when ${when}`, async () => {
        breakIt();
        try {
          await rejectsWith(login(jpki.cards.good, freshVerifier(options)), 'revocation-unavailable');
          await rejectsWith(login(jpki.cards.revoked, freshVerifier(options)), 'revocation-unavailable');
        } finally {
          jpki.crl.mode = 'ok';
        }
      });
    }

    it('fetches the CRL only where the outbound policy allows', async () => {
      const strict = new OutboundPolicy(testConfig({ OUTBOUND_ALLOW: '' }));
      const start = jpki.crl.requests;
      await rejectsWith(login(jpki.cards.good, freshVerifier({}, strict)), 'revocation-unavailable');
      assert.equal(jpki.crl.requests, start, 'no request left the process');
    });
  });

  describe('revocation by OCSP', () => {
    const withOcsp = () => freshVerifier({ ocspUrl: jpki.ocspUrl });

    it('asks the OCSP responder and not the CRL when one is configured', async () => {
      const [crlBefore, ocspBefore] = [jpki.crl.requests, jpki.ocsp.requests];
      const result = await login(jpki.cards.good, withOcsp());
      assert.equal(result.revocation.method, 'ocsp');
      assert.ok(Math.abs(result.revocation.producedAt.getTime() - Date.now()) < 60_000);
      assert.equal(jpki.ocsp.requests, ocspBefore + 1);
      assert.equal(jpki.crl.requests, crlBefore);
    });

    it('refuses a card the responder says is revoked, without asking the CRL', async () => {
      const card = await jpki.newCard();
      const verifier = withOcsp();
      assert.equal((await login(card, verifier)).revocation.method, 'ocsp');
      const crlBefore = jpki.crl.requests;
      jpki.revoke(card);
      await rejectsWith(login(card, verifier), 'revoked');
      assert.equal(jpki.crl.requests, crlBefore);
    });

    const fallbacks: [string, typeof jpki.ocsp.mode][] = [
      ['is down', 'down'],
      ['answers tryLater', 'try-later'],
      ['does not know the certificate', 'unknown'],
      ['is signed by an untrusted key', 'wrong-signer'],
      ['echoes another nonce', 'other-nonce'],
      ['gives an out-of-date answer', 'stale'],
    ];
    for (const [when, mode] of fallbacks) {
      it(`falls back to the CRL when the responder ${when}`, async () => {
        jpki.ocsp.mode = mode;
        const reasons: string[] = [];
        const config = jpkiConfig({ caCertificates: jpki.caPem, ocspUrl: jpki.ocspUrl });
        const verifier = new JpkiVerifier(config, policy, {
          onOcspFallback: (reason) => reasons.push(reason),
        });
        try {
          assert.equal((await login(jpki.cards.good, verifier)).revocation.method, 'crl');
          await rejectsWith(login(jpki.cards.revoked, verifier), 'revoked');
          assert.equal(reasons.length, 2);
        } finally {
          jpki.ocsp.mode = 'ok';
        }
      });
    }

    it('fails closed when neither the responder nor the CRL answers', async () => {
      jpki.ocsp.mode = 'down';
      jpki.crl.mode = 'down';
      try {
        await rejectsWith(login(jpki.cards.good, withOcsp()), 'revocation-unavailable');
      } finally {
        jpki.ocsp.mode = 'ok';
        jpki.crl.mode = 'ok';
      }
    });
  });
});

describe('JPKI configuration and errors', () => {
  let jpki: TestJpki;
  let dir: string;
  before(async () => {
    jpki = await makeTestJpki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'machi-jpki-'));
  });
  after(async () => {
    await jpki.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads CA files and defaults from the environment', () => {
    const a = path.join(dir, 'a.pem');
    const b = path.join(dir, 'b.pem');
    fs.writeFileSync(a, jpki.caPem);
    fs.writeFileSync(b, jpki.foreignCaPem);
    const config = loadJpkiConfig({
      JPKI_CA_CERTS: `${a}, ${b}`,
      JPKI_OCSP_URL: 'https://ocsp.example.jp/ocsp/',
    });
    assert.deepEqual(config.caCertificates, [jpki.caPem, jpki.foreignCaPem]);
    assert.equal(config.ocspUrl, 'https://ocsp.example.jp/ocsp');
    assert.equal(config.challengeSeconds, 300);
    assert.ok(config.crlMaxBytes >= 1024 * 1024);
    assert.ok(createJpkiVerifier(config, policy) instanceof JpkiVerifier);
  });

  it('turns card login off when no CA is configured', () => {
    const config = loadJpkiConfig({});
    assert.deepEqual(config.caCertificates, []);
    assert.equal(createJpkiVerifier(config, policy), undefined);
    assert.throws(() => new JpkiVerifier(config, policy), /JPKI_CA_CERTS/);
  });

  it('lists every bad setting at once', () => {
    const leaf = path.join(dir, 'leaf.pem');
    fs.writeFileSync(leaf, jpki.cards.good.pem);
    assert.throws(
      () =>
        loadJpkiConfig({
          JPKI_CA_CERTS: `${path.join(dir, 'missing.pem')}`,
          JPKI_OCSP_URL: 'ldap://ocsp',
          JPKI_CHALLENGE_SECONDS: '5',
          JPKI_CRL_MAX_BYTES: 'lots',
        }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 4,
    );
    assert.throws(() => loadJpkiConfig({ JPKI_CA_CERTS: leaf }), /not a CA certificate/);
    assert.throws(() => jpkiConfig({ caCertificates: 'no pem here' }), /no PEM certificate/);
  });

  it('answers as a problem with its code and a message in Japanese and English', () => {
    const error = new JpkiError('revoked');
    const problem = error.toProblem();
    assert.equal(problem.status, 401);
    assert.equal(problem.code, 'revoked');
    assert.match(String(problem.detail), /失効/);
    assert.match(String(problem.detail), /revoked/);
    assert.equal(new JpkiError('revocation-unavailable').status, 503);
    assert.equal(new JpkiError('malformed').status, 400);
  });
});
