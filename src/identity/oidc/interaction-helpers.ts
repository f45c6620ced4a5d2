/**
 * What the interaction routes (interactions.ts) lend the other login methods' routes (passkeys,
 * upstream providers), so that every method loads, checks, renders and finishes alike.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Attempt } from '../login/password.ts';
import type { Details } from './interaction-pages.ts';
import type { Lang } from './pages.ts';

export interface InteractionHelpers {
  load(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ provider: Provider; details: Details; clientName: string }>;
  checkCsrf(uid: string, body: unknown): void;
  csrf(uid: string): string;
  html(reply: FastifyReply, status: number, body: string): FastifyReply;
  showLogin(details: Details, lang: Lang, clientName: string, error?: string): Promise<string>;
  /** Audits the login and finishes the interaction (or offers a passkey first). */
  login(
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    details: Details,
    accountId: string,
    acr: string,
    amr: string[],
  ): Promise<FastifyReply>;
  finish(
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    result: InteractionResults,
  ): Promise<FastifyReply>;
  langOf(details: Details, request: FastifyRequest): Lang;
  attemptOf(request: FastifyRequest, details: Details): Attempt;
}
