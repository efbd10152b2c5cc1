// OAuth2 for IMAP (XOAUTH2 / OAUTHBEARER): turn a stored refresh token into a
// short-lived access token with the standard refresh_token grant (RFC 6749 §6),
// and keep that access token in memory per mailbox until shortly before it
// expires, so that every poll does not cost a round trip to the token endpoint.
// Tokens never appear in errors: messages name the endpoint and quote its
// `error` code and a short, cleaned `error_description` (never a raw body),
// with any of our secrets cut out of them. The request goes through the
// connection policy (src/net/): https only (http:// to an allowed host), no
// credentials in the URL, no internal addresses unless the operator allows them.
import { createHash } from 'node:crypto';
import { isMailroomError, MailroomError } from '../errors.js';
import { policyFetch, type FetchFn } from '../net/fetch.js';
import { tokenUrlProblem, type ConnectionPolicy } from '../net/policy.js';
import { replaceControls } from '../util/controls.js';

export interface RefreshParams {
  tokenUrl: string;
  clientId: string;
  clientSecret?: string | null;
  refreshToken: string;
  scope?: string | null;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
  /** Set when the endpoint rotated the refresh token; the old one may stop working. */
  refreshToken?: string;
}

export type { FetchFn };

export interface RefreshOptions {
  /** Where the token endpoint may be (MAILROOM_ALLOW_PRIVATE_HOSTS). */
  policy: ConnectionPolicy;
  /** Default: a fetch that connects through the policy (src/net/fetch.ts). */
  fetch?: FetchFn;
  timeoutMs?: number;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Used when the endpoint omits expires_in (it is only RECOMMENDED by RFC 6749). */
const DEFAULT_LIFETIME_S = 3600;
/** An access token is not reused within this margin of its expiry. */
export const EXPIRY_MARGIN_MS = 60_000;

/** The endpoint without query, fragment or credentials: what a message may show. */
function endpointName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function scrub(text: string, secrets: readonly (string | null | undefined)[], max = 300): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  out = replaceControls(out).replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/** RFC 6749 §5.2: an error code is printable ASCII without `"` and `\`; anything else is not quoted. */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

function fail(message: string, retryable: boolean, cause?: unknown): MailroomError {
  return new MailroomError('OAUTH_FAILED', message, { retryable, cause });
}

export async function refreshAccessToken(params: RefreshParams, options: RefreshOptions): Promise<AccessToken> {
  const doFetch = options.fetch ?? policyFetch(options.policy);
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = endpointName(params.tokenUrl);
  const secrets = [params.refreshToken, params.clientSecret];
  const problem = tokenUrlProblem(options.policy, params.tokenUrl);
  if (problem) throw notAllowed(where, problem);

  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: params.refreshToken, client_id: params.clientId });
  // client_secret_post: accepted by Google and Microsoft, and the only form public clients know.
  if (params.clientSecret) body.set('client_secret', params.clientSecret);
  if (params.scope) body.set('scope', params.scope);

  let response: Response;
  try {
    response = await doFetch(params.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (isMailroomError(err, 'CONNECTION_NOT_ALLOWED')) throw notAllowed(where, err.message);
    const reason = err instanceof Error && err.name === 'TimeoutError' ? `did not answer within ${timeoutMs / 1000} s` : `cannot be reached (${scrub(describeCause(err), secrets)})`;
    // A cause may carry the request (and so the tokens): keep only our sentence.
    throw fail(`The OAuth2 token endpoint ${where} ${reason}.`, true);
  }

  const text = await response.text().catch(() => '');
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    json = null;
  }

  if (!response.ok) {
    const error = typeof json?.error === 'string' && ERROR_CODE.test(json.error) ? json.error : null;
    const description = typeof json?.error_description === 'string' ? scrub(json.error_description, secrets, 160) : '';
    const detail = error ? `${error}${description ? ` (${description})` : ''}` : json ? 'no recognizable error code' : 'a non-JSON body';
    // 5xx and 429 are the endpoint's trouble, worth retrying; 4xx (invalid_grant...) need an admin.
    const retryable = response.status >= 500 || response.status === 429;
    throw fail(`The OAuth2 token endpoint ${where} refused the refresh token with HTTP ${response.status}: ${scrub(detail, secrets)}.`, retryable);
  }
  if (!json) throw fail(`The OAuth2 token endpoint ${where} answered HTTP ${response.status} with a body that is not JSON.`, true);
  const accessToken = json.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw fail(`The OAuth2 token endpoint ${where} answered without an access_token.`, false);
  }
  const expiresIn = Number(json.expires_in);
  const lifetimeS = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_LIFETIME_S;
  const result: AccessToken = { accessToken, expiresAt: new Date(now() + lifetimeS * 1000) };
  if (typeof json.refresh_token === 'string' && json.refresh_token && json.refresh_token !== params.refreshToken) {
    result.refreshToken = json.refresh_token;
  }
  return result;
}

/** The policy's refusal, or what is wrong with the URL: CONNECTION_NOT_ALLOWED, the admin's to fix. */
function notAllowed(where: string, problem: string): MailroomError {
  const sentence = /^must/.test(problem) ? `The OAuth2 token URL ${where} ${problem}.` : `The OAuth2 token endpoint ${where} is not used: ${problem}`;
  return new MailroomError('CONNECTION_NOT_ALLOWED', sentence.replace(/\.\.$/, '.'));
}

function describeCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  if (err instanceof Error) {
    const cause = err.cause;
    if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message;
    return err.message;
  }
  return String(err);
}

interface CacheEntry {
  fingerprint: string;
  token: Promise<AccessToken>;
}

/**
 * Access tokens by mailbox id. An entry is tied to a fingerprint of the refresh
 * parameters, so a mailbox whose credentials were changed gets a new token, and
 * concurrent callers share one refresh.
 */
export class AccessTokenCache {
  private readonly entries = new Map<number, CacheEntry>();

  async get(mailboxId: number, params: RefreshParams, options: RefreshOptions): Promise<AccessToken> {
    const now = options.now ?? Date.now;
    const fingerprint = fingerprintOf(params);
    const entry = this.entries.get(mailboxId);
    if (entry && entry.fingerprint === fingerprint) {
      const token = await entry.token.catch(() => null);
      if (token && token.expiresAt.getTime() - EXPIRY_MARGIN_MS > now()) return token;
    }
    const pending = refreshAccessToken(params, options);
    const fresh: CacheEntry = { fingerprint, token: pending };
    this.entries.set(mailboxId, fresh);
    try {
      return await pending;
    } catch (err) {
      if (this.entries.get(mailboxId) === fresh) this.entries.delete(mailboxId);
      throw err;
    }
  }

  /** Forget a mailbox's token (e.g. after the server rejected it). */
  invalidate(mailboxId: number): void {
    this.entries.delete(mailboxId);
  }

  get size(): number {
    return this.entries.size;
  }
}

function fingerprintOf(p: RefreshParams): string {
  return createHash('sha256').update(JSON.stringify([p.tokenUrl, p.clientId, p.clientSecret ?? '', p.refreshToken, p.scope ?? ''])).digest('hex');
}
