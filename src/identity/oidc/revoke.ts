/**
 * Access ended from the server side: every session of an account (password reset, account
 * deletion), or one service's access to it (consent withdrawn). The rows go in the caller's
 * transaction, so a password and the sessions it opened never outlive each other; once that has
 * committed, `sendLogouts` tells each relying party by back-channel logout, with the logout token
 * oidc-provider itself makes for RP-initiated logout.
 */
import type Provider from 'oidc-provider';
import type { Queryable } from '../../platform/index.ts';

/** One relying party's session to end: its logout token names the account and this `sid`. */
export interface Logout {
  clientId: string;
  sid: string | undefined;
}

/** What to tell the relying parties once a revocation has committed. */
export interface Logouts {
  accountId: string;
  sessions: Logout[];
}

/** Where delivery failures go (a request's or the app's logger). */
export interface Log {
  warn(fields: object, message: string): void;
}

/**
 * `Client#backchannelLogout(sub, sid)` of oidc-provider 9 (lib/models/client.js): signs a logout
 * token for the client (pairwise `sub`, `sid`, `events`, `jti`, typ logout+jwt) and posts it
 * through the provider's `fetch`. It needs no request context; its type declarations omit it.
 */
interface LoggingOutClient {
  clientId: string;
  backchannelLogoutUri?: string | undefined;
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
}

interface SessionRow {
  client_id: string;
  sid: string | null;
}

const asLogouts = (accountId: string, rows: SessionRow[]): Logouts => ({
  accountId,
  sessions: rows.map((r) => ({ clientId: r.client_id, sid: r.sid ?? undefined })),
});

/**
 * Deletes the account's single sign-on sessions, every token and code issued to it, and a login
 * half-way through an interaction, so nothing opened before keeps working. With `grants`, its
 * consents to services go too. Returns the sessions' relying parties, to be sent `sendLogouts`
 * after the commit.
 */
export async function endAccountSessions(
  tx: Queryable,
  accountId: string,
  options: { grants: boolean },
): Promise<Logouts> {
  // One statement: a session cannot gain a service between being read and being deleted.
  const { rows } = await tx.query<SessionRow>(
    `with gone as (
       delete from identity.oidc_models
        where ((payload ->> 'accountId' = $1 and ($2 or model <> 'Grant'))
           or (model = 'Interaction' and (payload -> 'session' ->> 'accountId' = $1
                                          or payload -> 'result' -> 'login' ->> 'accountId' = $1)))
        returning model, payload, expires_at)
     select a.key as client_id, a.value ->> 'sid' as sid
       from gone, jsonb_each(coalesce(gone.payload -> 'authorizations', '{}'::jsonb)) a
      where gone.model = 'Session' and (gone.expires_at is null or gone.expires_at > now())`,
    [accountId, options.grants],
  );
  return asLogouts(accountId, rows);
}

/**
 * Withdraws one service's access to the account: its grants, tokens and codes, its pending
 * interactions, and its place in the account's sessions, which stay open for the other services.
 * Returns that service's sessions, to be sent `sendLogouts` after the commit.
 */
export async function revokeClientAccess(
  tx: Queryable,
  accountId: string,
  clientId: string,
): Promise<Logouts> {
  // The access tokens are remembered (hashed) until they expire, so a later use is recognised.
  await tx.query(
    `insert into identity.withdrawn_tokens (token_sha256, account_id, client_id, expires_at)
     select encode(sha256(convert_to(id, 'UTF8')), 'hex'), $1::uuid, $2, coalesce(expires_at, now() + interval '1 day')
       from identity.oidc_models
      where model = 'AccessToken' and payload ->> 'accountId' = $1::text and payload ->> 'clientId' = $2
     on conflict (token_sha256) do nothing`,
    [accountId, clientId],
  );
  await tx.query(
    `delete from identity.oidc_models
      where (model <> 'Session' and payload ->> 'accountId' = $1 and payload ->> 'clientId' = $2)
         or (model = 'Interaction' and payload -> 'params' ->> 'client_id' = $2
             and (payload -> 'session' ->> 'accountId' = $1
                  or payload -> 'result' -> 'login' ->> 'accountId' = $1))`,
    [accountId, clientId],
  );
  const { rows } = await tx.query<SessionRow>(
    `with hit as (
       select id, payload -> 'authorizations' -> $2::text ->> 'sid' as sid
         from identity.oidc_models
        where model = 'Session' and payload ->> 'accountId' = $1
          and payload -> 'authorizations' -> $2::text is not null
          and (expires_at is null or expires_at > now())
        for update)
     update identity.oidc_models m set payload = m.payload #- array['authorizations', $2::text]
       from hit where m.model = 'Session' and m.id = hit.id
     returning $2::text as client_id, hit.sid`,
    [accountId, clientId],
  );
  return asLogouts(accountId, rows);
}

async function sendLogout(provider: Provider, accountId: string, { clientId, sid }: Logout): Promise<void> {
  // A client disabled or deleted since is unknown to the provider: it has no session to end.
  const client = (await provider.Client.find(clientId)) as LoggingOutClient | undefined;
  if (!client?.backchannelLogoutUri) return;
  await client.backchannelLogout(accountId, sid);
}

/**
 * Posts a logout token to each relying party of the ended sessions that registered a back-channel
 * logout URI, all at once (the library gives each 2.5 s). A failure is logged and does not stop
 * the others: the revocation has happened, and the service's tokens no longer work either way.
 * Log lines name the client, never the resident.
 */
export async function sendLogouts(provider: Provider, logouts: Logouts, log: Log): Promise<void> {
  await Promise.all(
    logouts.sessions.map((logout) =>
      sendLogout(provider, logouts.accountId, logout).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        log.warn({ clientId: logout.clientId, reason }, 'back-channel logout was not delivered');
      }),
    ),
  );
}

/** The resident and service of an access token ended by a consent withdrawal; undefined for any other token. */
export async function findWithdrawnToken(
  db: Queryable,
  value: string,
): Promise<{ accountId: string; clientId: string } | undefined> {
  const { rows } = await db.query<{ account_id: string; client_id: string }>(
    `select account_id, client_id from identity.withdrawn_tokens
      where token_sha256 = encode(sha256(convert_to($1, 'UTF8')), 'hex') and expires_at > now()`,
    [value],
  );
  const row = rows[0];
  return row ? { accountId: row.account_id, clientId: row.client_id } : undefined;
}

/** Forgets withdrawn tokens that have expired anyway. */
export async function sweepWithdrawnTokens(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('delete from identity.withdrawn_tokens where expires_at < now()');
  return rowCount;
}
