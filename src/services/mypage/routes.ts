/**
 * The resident's own API behind My Page (`/api/v1/me`): who I am, my consents (and their signed
 * receipts), withdrawing one, the log of every use of my data, the provisions to third parties, and
 * my rights under 個人情報保護法: download everything (開示), stop a service's use (利用停止), erase
 * (消去). Only the portal's token for this API opens it, and only for the resident it names.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  consentReceipt,
  type Language,
  listCategories,
  listPurposes,
  RECEIPT_TYPE,
  recordResidentRequest,
  withdrawConsent,
} from '../../consent/index.ts';
import { type DataKeys, type Db, findTenant, NotFound } from '../../platform/index.ts';
import { eraseEverything, stopService } from './erasure.ts';
import { accessView, consentView, gatherHoldings, namesFor, provisionView } from './holdings.ts';
import { exportDocument, reportHtml } from './report.ts';
import type { MyPageIdentity } from './types.ts';

export const ME_PATH = '/api/v1/me';

export interface MyPageOptions {
  db: Db;
  identity: MyPageIdentity;
  /** The tenants' data keys: the resident's download shows their sensitive data opened. */
  keys: DataKeys;
}

const langQuery = {
  type: 'object',
  properties: { lang: { type: 'string', enum: ['ja', 'en'] } },
} as const;

const consentParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

type LangRequest = FastifyRequest<{ Querystring: { lang?: Language } }>;

const langOf = (request: LangRequest): Language => request.query.lang ?? 'ja';

export async function myPageRoutes(app: FastifyInstance, options: MyPageOptions): Promise<void> {
  const { db, identity, keys } = options;
  const resident = async (request: FastifyRequest) => (await identity.resident(request)).accountId;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  /** The consent record with this id, wherever it is, with its tenant; NotFound when it is not the resident's. */
  const findRecord = async (accountId: string, id: string) => {
    for (const held of await gatherHoldings(db, keys, accountId, { consents: true })) {
      const record = held.consents.find((c) => c.id === id);
      if (record) return { record, tenant: held.tenant };
    }
    throw new NotFound(`no consent record ${id}`);
  };

  app.get(ME_PATH, async (request, reply) => {
    const accountId = await resident(request);
    const account = await identity.account(accountId);
    if (!account) throw new NotFound('this account no longer exists');
    const home = account.homeTenantCode ? await findTenant(db, account.homeTenantCode) : undefined;
    noStore(reply);
    return {
      displayName: account.displayName,
      email: account.email,
      homeMunicipality: home ? { code: home.code, name: home.name, nameEn: home.nameEn } : null,
    };
  });

  app.get(
    `${ME_PATH}/consents`,
    { schema: { querystring: langQuery } },
    async (request: LangRequest, reply) => {
      const accountId = await resident(request);
      const lang = langOf(request);
      const holdings = await gatherHoldings(db, keys, accountId, { consents: true });
      const names = await namesFor(db, holdings, identity.clientNames);
      noStore(reply);
      return {
        consents: holdings.flatMap((h) => h.consents.map((c) => consentView(c, h.tenant, names, lang))),
      };
    },
  );

  app.post<{ Params: { id: string } }>(
    `${ME_PATH}/consents/:id/withdrawal`,
    { schema: { params: consentParams } },
    async (request, reply) => {
      const accountId = await resident(request);
      const { record, tenant } = await findRecord(accountId, request.params.id);
      const { withdrawn, clientIds } = await db.withTenant(tenant.code, (tx) =>
        withdrawConsent(tx, { tenant: tenant.code, resident: accountId, consentId: record.id }),
      );
      // The withdrawal has committed: every decision from now on refuses. Then the service's grant,
      // tokens and sessions go, and it is told by back-channel logout.
      await identity.endServiceAccess(accountId, clientIds, request.log);
      noStore(reply);
      return { withdrawn, services: clientIds };
    },
  );

  app.get<{ Params: { id: string } }>(
    `${ME_PATH}/consents/:id/receipt`,
    { schema: { params: consentParams } },
    async (request, reply) => {
      const accountId = await resident(request);
      const { record, tenant } = await findRecord(accountId, request.params.id);
      const [categories, purposes] = await db.withTenant(tenant.code, (tx) =>
        Promise.all([listCategories(tx), listPurposes(tx, tenant.code)]),
      );
      const names = await identity.clientNames([record.clientId]);
      const claims = consentReceipt(record, {
        issuer: identity.issuer,
        tenant: tenant.code,
        serviceName: names.get(record.clientId) ?? record.clientId,
        categories,
        purposes,
      });
      const jws = await identity.sign(claims, RECEIPT_TYPE);
      noStore(reply);
      reply.header('content-disposition', `attachment; filename="consent-receipt-${record.id}.jwt"`);
      return reply.type('application/jwt').send(jws);
    },
  );

  app.get<{ Querystring: { lang?: Language; limit?: number } }>(
    `${ME_PATH}/access-log`,
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            lang: langQuery.properties.lang,
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
      },
    },
    async (request, reply) => {
      const accountId = await resident(request);
      const lang = request.query.lang ?? 'ja';
      const limit = request.query.limit ?? 50;
      const holdings = await gatherHoldings(db, keys, accountId, { log: limit });
      const names = await namesFor(db, holdings, identity.clientNames);
      const entries = holdings
        .flatMap((h) => h.log.map((r) => accessView(r, h.tenant, names, lang)))
        .sort((a, b) => b.at.localeCompare(a.at))
        .slice(0, limit);
      noStore(reply);
      return { entries };
    },
  );

  app.get(
    `${ME_PATH}/third-party-provisions`,
    { schema: { querystring: langQuery } },
    async (request: LangRequest, reply) => {
      const accountId = await resident(request);
      const lang = langOf(request);
      const holdings = await gatherHoldings(db, keys, accountId, { provisions: true });
      const names = await namesFor(db, holdings, identity.clientNames);
      noStore(reply);
      return {
        provisions: holdings
          .flatMap((h) => h.provisions.map((p) => provisionView(p, h.tenant, names, lang)))
          .sort((a, b) => b.at.localeCompare(a.at)),
      };
    },
  );

  app.get<{ Querystring: { lang?: Language; format?: 'json' | 'html' } }>(
    `${ME_PATH}/export`,
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { lang: langQuery.properties.lang, format: { type: 'string', enum: ['json', 'html'] } },
        },
      },
    },
    async (request, reply) => {
      const accountId = await resident(request);
      const lang = request.query.lang ?? 'ja';
      const account = await identity.account(accountId);
      if (!account) throw new NotFound('this account no longer exists');
      const holdings = await gatherHoldings(db, keys, accountId, {
        consents: true,
        log: 500,
        provisions: true,
        requests: true,
        entities: true,
      });
      const names = await namesFor(db, holdings, identity.clientNames);
      const document = exportDocument(account, holdings, names, lang);
      // The disclosure is recorded where the resident lives (or the first municipality holding data).
      const where = account.homeTenantCode ?? holdings[0]?.tenant.code;
      if (where) {
        await db.withTenant(where, (tx) =>
          recordResidentRequest(tx, where, {
            resident: accountId,
            kind: 'disclosure',
            outcome: {
              format: request.query.format ?? 'json',
              municipalities: holdings.map((h) => h.tenant.code),
            },
          }),
        );
      }
      noStore(reply);
      const day = document.exportedAt.slice(0, 10);
      if (request.query.format === 'html') {
        reply.header('content-disposition', `attachment; filename="machi-my-data-${day}.html"`);
        return reply.type('text/html; charset=utf-8').send(reportHtml(document, lang));
      }
      reply.header('content-disposition', `attachment; filename="machi-my-data-${day}.json"`);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(document, null, 2));
    },
  );

  const serviceParams = {
    type: 'object',
    required: ['clientId'],
    properties: { clientId: { type: 'string', minLength: 1, maxLength: 200 } },
  } as const;

  app.post<{ Params: { clientId: string } }>(
    `${ME_PATH}/services/:clientId/stop`,
    { schema: { params: serviceParams } },
    async (request, reply) => {
      const accountId = await resident(request);
      const outcome = await stopService(db, identity, accountId, request.params.clientId, request.log);
      noStore(reply);
      return outcome;
    },
  );

  app.get<{ Params: { clientId: string }; Querystring: { lang?: Language } }>(
    `${ME_PATH}/services/:clientId/request`,
    { schema: { params: serviceParams, querystring: langQuery } },
    async (request, reply) => {
      const accountId = await resident(request);
      noStore(reply);
      return identity.purposeRequest(accountId, request.params.clientId, request.query.lang ?? 'ja');
    },
  );

  app.put<{
    Params: { clientId: string };
    Body: { lang?: Language; version: number; shown: string; items: string[] };
  }>(
    `${ME_PATH}/services/:clientId/consent`,
    {
      schema: {
        params: serviceParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['version', 'shown', 'items'],
          properties: {
            lang: langQuery.properties.lang,
            version: { type: 'integer', minimum: 1 },
            shown: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            items: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 200 } },
          },
        },
      },
    },
    async (request, reply) => {
      const accountId = await resident(request);
      const { lang, version, shown, items } = request.body;
      const answer = await identity.answerPurposeRequest(accountId, request.params.clientId, {
        lang: lang ?? 'ja',
        version,
        shown,
        keys: items,
      });
      noStore(reply);
      return answer;
    },
  );

  app.post(
    `${ME_PATH}/erasure`,
    { schema: { querystring: langQuery } },
    async (request: LangRequest, reply) => {
      const accountId = await resident(request);
      const outcome = await eraseEverything(db, keys, identity, accountId, langOf(request), request.log);
      noStore(reply);
      return outcome;
    },
  );

  app.get(`${ME_PATH}/requests`, async (request, reply) => {
    const accountId = await resident(request);
    const holdings = await gatherHoldings(db, keys, accountId, { requests: true });
    noStore(reply);
    return {
      requests: holdings
        .flatMap((h) =>
          h.requests.map((r) => ({
            id: r.id,
            municipality: h.tenant.code,
            kind: r.kind,
            clientId: r.clientId,
            requestedAt: r.requestedAt.toISOString(),
            outcome: r.outcome,
          })),
        )
        .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt)),
    };
  });
}
