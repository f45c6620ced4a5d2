/**
 * The outbound policy on its own: which addresses are special-purpose, how OUTBOUND_ALLOW and
 * OUTBOUND_PRIVATE open them, that a name is judged by every address it resolves to, and that an
 * HTTP request connects only to the address that was checked (redirects checked again).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  configWarnings,
  loadConfig,
  OutboundDenied,
  OutboundPolicy,
  outboundRequest,
  parseAddress,
  parseOutboundAllow,
  type ResolvedAddress,
  type Resolver,
  specialRange,
} from '../../src/platform/index.ts';

const kindOf = (address: string) => {
  const bytes = parseAddress(address);
  assert.ok(bytes, `${address} parses`);
  return specialRange(bytes)?.kind ?? 'public';
};

/** A policy from the environment variables, as Machi would read them. */
const policy = (env: Record<string, string> = {}, resolver?: Resolver) =>
  new OutboundPolicy(loadConfig(env), resolver);

/** A resolver that knows a few names, and counts how often it was asked. */
function fakeDns(names: Record<string, string[] | string[][]>) {
  const asked: string[] = [];
  const resolver: Resolver = async (host) => {
    const answers = names[host];
    if (!answers) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    }
    // A list of lists answers differently each time (the last answer repeats): DNS rebinding.
    const turn = asked.filter((h) => h === host).length;
    asked.push(host);
    const list = (
      Array.isArray(answers[0]) ? (answers[Math.min(turn, answers.length - 1)] as string[]) : answers
    ) as string[];
    return list.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolver, asked };
}

describe('address classification', () => {
  it('reads IPv4 and IPv6 addresses, with brackets, zones, :: and an IPv4 tail', () => {
    assert.deepEqual([...(parseAddress('192.168.1.20') ?? [])], [192, 168, 1, 20]);
    assert.deepEqual([...(parseAddress('[::1]') ?? [])], [...new Array(15).fill(0), 1]);
    assert.deepEqual(parseAddress('fe80::1%eth0'), parseAddress('fe80:0:0:0:0:0:0:1'));
    assert.deepEqual(parseAddress('::ffff:127.0.0.1'), parseAddress('::ffff:7f00:1'));
    assert.deepEqual(parseAddress('1::'), parseAddress('1:0:0:0:0:0:0:0'));
    for (const text of ['localhost', '1.2.3', '256.0.0.1', '::g', '', '1.2.3.4/8']) {
      assert.equal(parseAddress(text), undefined, text);
    }
  });

  it('names every special-purpose range, and leaves public addresses alone', () => {
    const expected: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.3.4', 'loopback'],
      ['::1', 'loopback'],
      ['10.20.30.40', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.0.1', 'private'],
      ['100.64.0.1', 'shared'],
      ['100.127.255.254', 'shared'],
      ['169.254.169.254', 'metadata'],
      ['fd00:ec2::254', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['169.254.10.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['febf::1', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.251', 'multicast'],
      ['ff02::1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.10', 'documentation'],
      ['2001:db8::1', 'documentation'],
      ['::127.0.0.1', 'reserved'],
      // IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they reach.
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'metadata'],
      ['64:ff9b::10.0.0.1', 'private'],
      ['2002:c0a8:0101::1', 'private'],
      ['::ffff:8.8.8.8', 'public'],
      ['8.8.8.8', 'public'],
      ['172.32.0.1', 'public'],
      ['100.128.0.1', 'public'],
      ['169.255.0.1', 'public'],
      ['2606:4700:4700::1111', 'public'],
      ['64:ff9b::8.8.8.8', 'public'],
    ];
    assert.deepEqual(
      expected.map(([address]) => [address, kindOf(address)]),
      expected,
    );
  });
});

describe('OUTBOUND_ALLOW and OUTBOUND_PRIVATE', () => {
  it('reads hosts, host:port, addresses, [IPv6]:port and CIDRs', () => {
    const rules = parseOutboundAllow(
      ' Hooks.Internal , localhost:9000, 10.0.0.0/8, 127.0.0.1:8080, [::1]:8443, fd00::/8, ::1, 10.0.0.0/8:443',
    );
    assert.deepEqual(
      rules.map((r) => (r.kind === 'host' ? [r.host, r.port] : [r.bytes.length, r.prefix, r.port])),
      [
        ['hooks.internal', undefined],
        ['localhost', 9000],
        [4, 8, undefined],
        [4, 32, 8080],
        [16, 128, 8443],
        [16, 8, undefined],
        [16, 128, undefined],
        [4, 8, 443],
      ],
    );
    assert.deepEqual(parseOutboundAllow(''), []);
  });

  it('refuses a bad entry at start, naming it, with every other problem', () => {
    assert.throws(
      () => loadConfig({ OUTBOUND_ALLOW: 'ok.example, 10.0.0.0/33', OUTBOUND_PRIVATE: 'sometimes' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          'OUTBOUND_PRIVATE="sometimes" must be deny or allow',
          'OUTBOUND_ALLOW="ok.example, 10.0.0.0/33" has "10.0.0.0/33", which is not a host name, host:port, IP address, [IPv6]:port or CIDR (10.0.0.0/8)',
        ]);
        return true;
      },
    );
    for (const bad of ['http://x', 'a b', 'host:0', 'host:70000', '[::1]', '1.2.3.4:5:6', '10.0.0.0/8:0']) {
      assert.throws(() => parseOutboundAllow(bad), /which is not a host name/, bad);
    }
  });

  it('denies by default, and warns whenever OUTBOUND_PRIVATE=allow', () => {
    assert.equal(loadConfig({}).outboundPrivate, 'deny');
    assert.deepEqual(loadConfig({}).outboundAllow, []);
    assert.deepEqual(configWarnings(loadConfig({ OUTBOUND_PRIVATE: 'allow' })), [
      'OUTBOUND_PRIVATE=allow: clients may make Machi call addresses on its own machine and network',
    ]);
  });
});

describe('the outbound policy', () => {
  const refuses = (p: OutboundPolicy, url: string, message?: RegExp) =>
    assert.throws(
      () => p.checkUrl(new URL(url)),
      (error: unknown) => {
        assert.ok(error instanceof OutboundDenied, `${url}: ${error}`);
        assert.equal(error.retryable, false);
        if (message) {
          assert.match(error.message, message);
        }
        return true;
      },
    );
  const allows = (p: OutboundPolicy, url: string) => assert.doesNotThrow(() => p.checkUrl(new URL(url)), url);

  it('refuses literal private addresses and localhost names, in every spelling', () => {
    const p = policy();
    refuses(
      p,
      'http://169.254.169.254/latest/meta-data/',
      /^169\.254\.169\.254 is a cloud metadata service address \(169\.254\.169\.254\/32\), which Machi does not call unless OUTBOUND_ALLOW lists it$/,
    );
    refuses(
      p,
      'http://127.0.0.1:8080/hook',
      /127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\).*OUTBOUND_PRIVATE=allow/,
    );
    refuses(p, 'http://[::1]:8080/', /::1 is a loopback address/);
    refuses(p, 'http://[::ffff:127.0.0.1]/', /::ffff:7f00:1 is a loopback address/);
    refuses(p, 'http://localhost:3000/', /localhost is a loopback address/);
    refuses(p, 'http://LocalHost./', /localhost is a loopback/);
    refuses(p, 'https://api.localhost/', /api\.localhost is a loopback/);
    refuses(p, 'http://2130706433/', /127\.0\.0\.1 is a loopback/);
    refuses(p, 'mqtt://0x7f.1:1883/topic', /127\.0\.0\.1 is a loopback/);
    refuses(p, 'mqtt://[fe80::1]/topic', /fe80::1 is a link-local address/);
    refuses(p, 'http://10.1.2.3/', /a private network address \(10\.0\.0\.0\/8\)/);
    refuses(p, 'http://0.0.0.0:8080/', /unspecified/);
    // Names other than localhost are judged on what they resolve to, when they are used.
    allows(p, 'https://hooks.example.org/ngsi');
    allows(p, 'http://93.184.215.14/');
  });

  it('allows what OUTBOUND_ALLOW lists: an address (on any port, or one), a CIDR, a host name', () => {
    allows(policy({ OUTBOUND_ALLOW: '127.0.0.1' }), 'http://127.0.0.1:8080/');
    allows(policy({ OUTBOUND_ALLOW: '127.0.0.1' }), 'http://[::ffff:127.0.0.1]:8080/');
    refuses(policy({ OUTBOUND_ALLOW: '127.0.0.1' }), 'http://[::1]:8080/');
    allows(policy({ OUTBOUND_ALLOW: '127.0.0.1:8080' }), 'http://127.0.0.1:8080/');
    refuses(policy({ OUTBOUND_ALLOW: '127.0.0.1:8080' }), 'http://127.0.0.1:8081/');
    // A URL without a port means its scheme's default port.
    allows(policy({ OUTBOUND_ALLOW: '127.0.0.1:80' }), 'http://127.0.0.1/x');
    refuses(policy({ OUTBOUND_ALLOW: '127.0.0.1:80' }), 'https://127.0.0.1/x', /loopback/);
    const cidr = policy({ OUTBOUND_ALLOW: '10.0.0.0/8, fd00::/8' });
    allows(cidr, 'http://10.200.1.1/');
    allows(cidr, 'http://[fd00::5]/');
    refuses(cidr, 'http://192.168.0.1/');
    refuses(cidr, 'http://[fc12::1]/', /unique-local/);
    allows(policy({ OUTBOUND_ALLOW: 'localhost' }), 'http://localhost:3000/');
    allows(policy({ OUTBOUND_ALLOW: 'localhost:3000' }), 'http://LOCALHOST:3000/');
    refuses(policy({ OUTBOUND_ALLOW: 'localhost:3000' }), 'http://localhost:3001/');
  });

  it('opens private networks with OUTBOUND_PRIVATE=allow, but never link-local or metadata addresses', () => {
    const p = policy({ OUTBOUND_PRIVATE: 'allow' });
    allows(p, 'http://127.0.0.1/');
    allows(p, 'http://192.168.10.2/');
    allows(p, 'http://[fd12::1]/');
    allows(p, 'http://100.64.1.1/');
    refuses(p, 'http://169.254.169.254/', /unless OUTBOUND_ALLOW lists it$/);
    refuses(p, 'http://169.254.0.1/');
    refuses(p, 'http://[fe80::1]/');
    refuses(p, 'http://100.100.100.200/');
    allows(
      policy({ OUTBOUND_PRIVATE: 'allow', OUTBOUND_ALLOW: '169.254.169.254' }),
      'http://169.254.169.254/',
    );
  });

  it('judges a name by every address it resolves to, with the system resolver too', async () => {
    await assert.rejects(policy().resolve('localhost', 80), {
      name: 'OutboundDenied',
      message: /^localhost resolves to a loopback address/,
    });
    assert.ok((await policy({ OUTBOUND_ALLOW: 'localhost' }).resolve('localhost', 80)).length > 0);
    const { resolver } = fakeDns({
      'public.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
      'mixed.example': ['93.184.215.14', '10.0.0.7'],
      'metadata.example': ['169.254.169.254'],
    });
    const p = policy({}, resolver);
    assert.deepEqual(
      (await p.resolve('Public.Example.', 443)).map((a) => a.family),
      [4, 6],
    );
    await assert.rejects(
      p.resolve('mixed.example', 443),
      /mixed\.example resolves to a private network address \(10\.0\.0\.0\/8\)/,
    );
    await assert.rejects(p.resolve('metadata.example', 80), /cloud metadata/);
    await assert.rejects(p.resolve('nowhere.example', 80), (error: Error) => {
      assert.ok(!(error instanceof OutboundDenied), 'a name that does not resolve may resolve later');
      assert.match(error.message, /could not resolve nowhere\.example: ENOTFOUND/);
      return true;
    });
    assert.equal(
      (await policy({ OUTBOUND_ALLOW: 'mixed.example' }, resolver).resolve('mixed.example', 1)).length,
      2,
    );
  });
});

describe('HTTP requests under the policy', () => {
  let server: http.Server;
  let other: http.Server;
  let port: number;
  let otherPort: number;
  const seen: { server: string; url: string; host: string | undefined }[] = [];

  const listen = async (name: string, handler: http.RequestListener) => {
    const s = http.createServer((req, res) => {
      seen.push({ server: name, url: req.url ?? '', host: req.headers.host });
      handler(req, res);
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return { s, port: (s.address() as AddressInfo).port };
  };

  before(async () => {
    ({ s: other, port: otherPort } = await listen('other', (_req, res) => res.end('{"from": "other"}')));
    ({ s: server, port } = await listen('main', (req, res) => {
      if (req.url === '/to-other') {
        res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/` }).end();
      } else if (req.url === '/to-metadata') {
        res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else if (req.url === '/to-self') {
        res.writeHead(301, { location: '/plain' }).end();
      } else {
        res.end('{"from": "main"}');
      }
    }));
  });
  after(() => {
    server.close();
    other.close();
  });

  const text = async (response: { body: AsyncIterable<Buffer> }) => {
    let out = '';
    for await (const chunk of response.body) {
      out += chunk;
    }
    return out;
  };

  it('refuses a private destination before connecting to it', async () => {
    seen.length = 0;
    await assert.rejects(outboundRequest(policy(), `http://127.0.0.1:${port}/plain`), {
      name: 'OutboundDenied',
    });
    await assert.rejects(outboundRequest(policy(), `http://localhost:${port}/plain`), {
      name: 'OutboundDenied',
    });
    assert.deepEqual(seen, []);
  });

  it('connects to the address it checked, never asking DNS again (DNS rebinding)', async () => {
    seen.length = 0;
    // The first answer is allowed; every later one would be the metadata service.
    const dns = fakeDns({ 'hooks.test': [['127.0.0.1'], ['169.254.169.254']] });
    const p = policy({ OUTBOUND_ALLOW: '127.0.0.1' }, dns.resolver);
    const response = await outboundRequest(p, `http://hooks.test:${port}/plain`, {
      method: 'POST',
      body: '{}',
      headers: { host: 'internal.admin', 'content-type': 'application/json' },
    });
    assert.equal(response.status, 200);
    assert.equal(await text(response), '{"from": "main"}');
    assert.deepEqual(dns.asked, ['hooks.test']);
    assert.deepEqual(seen, [{ server: 'main', url: '/plain', host: `hooks.test:${port}` }]);
    await assert.rejects(outboundRequest(p, `http://hooks.test:${port}/plain`), /cloud metadata/);
    assert.equal(seen.length, 1);
  });

  it('checks every redirect it follows, and follows none unless asked', async () => {
    const p = policy({ OUTBOUND_ALLOW: `127.0.0.1:${port}` });
    seen.length = 0;
    await assert.rejects(outboundRequest(p, `http://127.0.0.1:${port}/to-other`, { maxRedirects: 3 }), {
      name: 'OutboundDenied',
      message: /^127\.0\.0\.1 is a loopback address/,
    });
    await assert.rejects(outboundRequest(p, `http://127.0.0.1:${port}/to-metadata`, { maxRedirects: 3 }), {
      name: 'OutboundDenied',
      message: /^169\.254\.169\.254 is a cloud metadata service address/,
    });
    assert.deepEqual(
      seen.map((s) => s.server),
      ['main', 'main'],
    );
    const followed = await outboundRequest(p, `http://127.0.0.1:${port}/to-self`, { maxRedirects: 3 });
    assert.equal(followed.status, 200);
    assert.equal(followed.url.pathname, '/plain');
    assert.equal(await text(followed), '{"from": "main"}');
    const unfollowed = await outboundRequest(p, `http://127.0.0.1:${port}/to-other`);
    unfollowed.body.destroy();
    assert.equal(unfollowed.status, 302);
    const allowed = policy({ OUTBOUND_ALLOW: '127.0.0.1' });
    const reached = await outboundRequest(allowed, `http://127.0.0.1:${port}/to-other`, { maxRedirects: 1 });
    assert.equal(await text(reached), '{"from": "other"}');
  });
});
