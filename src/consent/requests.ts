/**
 * Service requests: what a service (an OIDC client of the tenant) asks for, item by item, each with
 * its purpose, retention, third-party provision and legal basis. A change makes a new version; the
 * rule on sensitive categories (docs/consent.md) is checked here and again in every decision.
 */
import { Conflict, type InvalidParam, type Queryable, ValidationFailed } from '../platform/index.ts';
import { listCategories } from './catalogue.ts';
import { insertServiceRequest, missingPurposes, selectServiceRequest } from './store.ts';
import {
  type Action,
  type Category,
  type ControllerKind,
  LEGAL_BASES,
  type LegalBasis,
  type NewServiceRequest,
  type RequestItem,
  type ServiceRequest,
  type StoredItem,
} from './types.ts';

const ISO_DURATION = /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

/** A retention as an ISO 8601 duration: days become `P<n>D`. */
export function normaliseRetention(retention: string | number): string | undefined {
  if (typeof retention === 'number') {
    return Number.isInteger(retention) && retention > 0 ? `P${retention}D` : undefined;
  }
  const upper = retention.toUpperCase();
  return ISO_DURATION.test(upper) && /[1-9]/.test(upper) ? upper : undefined;
}

/**
 * The legal basis an item really has. 要配慮個人情報 needs the resident's consent unless the
 * municipality itself processes it as a statutory duty, whatever else a request declares.
 */
export function effectiveBasis(sensitive: boolean, kind: ControllerKind, declared: LegalBasis): LegalBasis {
  if (sensitive && !(kind === 'municipality' && declared === 'statutory-duty')) {
    return 'consent';
  }
  return declared;
}

function itemProblems(
  item: RequestItem,
  at: string,
  kind: ControllerKind,
  categories: Category[],
): InvalidParam[] {
  const problems: InvalidParam[] = [];
  const category = categories.find((c) => c.code === item.category);
  if (!category) {
    problems.push({ name: `${at}.category`, reason: `"${item.category}" is not a data category` });
  }
  if (!LEGAL_BASES.includes(item.legalBasis)) {
    problems.push({ name: `${at}.legalBasis`, reason: `use one of ${LEGAL_BASES.join(', ')}` });
  } else if (category && effectiveBasis(category.sensitive, kind, item.legalBasis) !== item.legalBasis) {
    problems.push({
      name: `${at}.legalBasis`,
      reason: `${item.category} is 要配慮個人情報: only consent, or the municipality's own statutory duty, may be its basis`,
    });
  }
  if (item.legalBasis === 'public-task' && kind !== 'municipality') {
    problems.push({
      name: `${at}.legalBasis`,
      reason: 'only the municipality itself carries out a public task',
    });
  }
  if (normaliseRetention(item.retention) === undefined) {
    problems.push({
      name: `${at}.retention`,
      reason: 'use an ISO 8601 duration (P30D, P1Y) or a number of days',
    });
  }
  const actions = item.actions ?? ['read'];
  if (actions.length === 0 || actions.some((a) => a !== 'read' && a !== 'write')) {
    problems.push({ name: `${at}.actions`, reason: 'use read, write or both' });
  }
  return problems;
}

function normaliseItem(item: RequestItem): StoredItem {
  const actions = [...new Set<Action>(item.actions ?? ['read'])].sort();
  return {
    category: item.category,
    purpose: item.purpose,
    retention: normaliseRetention(item.retention) as string,
    thirdParty: item.thirdParty,
    actions,
    legalBasis: item.legalBasis,
  };
}

const itemKey = (i: { category: string; purpose: string }) => `${i.category}\u0000${i.purpose}`;

async function validate(tx: Queryable, tenant: string, input: NewServiceRequest): Promise<StoredItem[]> {
  const problems: InvalidParam[] = [];
  if (input.clientId.trim() === '') problems.push({ name: 'clientId', reason: 'must not be empty' });
  if (input.controller.trim() === '') problems.push({ name: 'controller', reason: 'name the operator' });
  if (input.controllerKind !== 'municipality' && input.controllerKind !== 'private') {
    problems.push({ name: 'controllerKind', reason: 'use municipality or private' });
  }
  if (input.items.length === 0) problems.push({ name: 'items', reason: 'a request asks for something' });
  const categories = await listCategories(tx);
  const seen = new Set<string>();
  input.items.forEach((item, n) => {
    problems.push(...itemProblems(item, `items[${n}]`, input.controllerKind, categories));
    if (seen.has(itemKey(item))) {
      problems.push({ name: `items[${n}]`, reason: `${item.category} for ${item.purpose} is asked twice` });
    }
    seen.add(itemKey(item));
  });
  const missing = await missingPurposes(tx, tenant, [...new Set(input.items.map((i) => i.purpose))]);
  for (const id of missing) {
    problems.push({ name: 'items', reason: `"${id}" is not in the tenant's catalogue of purposes` });
  }
  if (problems.length > 0) {
    throw new ValidationFailed('the service request is not valid', problems);
  }
  return input.items.map(normaliseItem).sort((a, b) => itemKey(a).localeCompare(itemKey(b)));
}

function sameRequest(current: ServiceRequest, input: NewServiceRequest, items: StoredItem[]): boolean {
  const canonical = (list: StoredItem[]) =>
    JSON.stringify(
      [...list]
        .sort((a, b) => itemKey(a).localeCompare(itemKey(b)))
        .map((i) => [i.category, i.purpose, i.retention, i.thirdParty, i.actions, i.legalBasis]),
    );
  return (
    current.controller === input.controller &&
    current.controllerKind === input.controllerKind &&
    canonical(current.items) === canonical(items)
  );
}

/**
 * Declares what a service asks for. Anything changed (an item, a retention, the controller) makes a
 * new version, which consent given before covers only where nothing grew; an unchanged request keeps
 * its version.
 * @throws ValidationFailed listing every problem; Conflict when another declaration won the race
 */
export async function declareServiceRequest(
  tx: Queryable,
  tenant: string,
  input: NewServiceRequest,
): Promise<ServiceRequest & { changed: boolean }> {
  const items = await validate(tx, tenant, input);
  const current = await selectServiceRequest(tx, tenant, input.clientId);
  if (current && sameRequest(current, input, items)) {
    return { ...current, changed: false };
  }
  const next = {
    clientId: input.clientId,
    version: (current?.version ?? 0) + 1,
    controller: input.controller,
    controllerKind: input.controllerKind,
    items,
  };
  try {
    await insertServiceRequest(tx, tenant, next);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new Conflict(`the request of ${input.clientId} changed meanwhile; declare it again`);
    }
    throw error;
  }
  const stored = await selectServiceRequest(tx, tenant, input.clientId, next.version);
  return { ...(stored as ServiceRequest), changed: true };
}

/** The current version of a service's request; undefined when the service has declared none. */
export async function currentServiceRequest(
  tx: Queryable,
  tenant: string,
  clientId: string,
): Promise<ServiceRequest | undefined> {
  return selectServiceRequest(tx, tenant, clientId);
}
