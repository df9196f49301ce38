// The web server is the OAuth client (docs/adr/0001-auth-bff.md). Tokens live only in httpOnly
// cookies set here; page JavaScript never sees them. Server code that calls the API on behalf of
// the signed-in user uses `event.locals.accessToken` (set by hooks.server.ts), e.g.
//   api(fetch, { accessToken: locals.accessToken }).GET('/api/issues')
import { createHash, randomBytes } from 'node:crypto';
import type { Cookies, RequestEvent } from '@sveltejs/kit';
import type { Problem, ProblemField } from '$lib/api/problem';
import { api, type Schemas } from '$lib/server/api';
import { samePath } from '$lib/server/redirects';

export const ACCESS_COOKIE = 'tracker_access';
export const REFRESH_COOKIE = 'tracker_refresh';
/** Verifier, state and destination of an external sign-in in flight. */
export const FLOW_COOKIE = 'tracker_oauth_flow';
export const CLIENT_ID = 'web';
/** Where signing in (or up) leads when no page asked for it: the work. */
export const AFTER_SIGN_IN = '/issues';
/** The API's refresh-token lifetime (REFRESH_TOKEN_TTL_DAYS); the API is the real judge. */
const REFRESH_MAX_AGE = 60 * 60 * 24 * 30;
/** Refresh this long before the access token expires, so no request races its expiry. */
const REFRESH_AHEAD_SECONDS = 60;

export type User = Schemas['UserOut'];
export type TokenResponse = Schemas['TokenResponse'];

// --- PKCE, state, safe redirects -------------------------------------------------------------

const base64url = (buf: Buffer) => buf.toString('base64url');

export function newVerifier(): string {
	return base64url(randomBytes(48)); // 64 characters, within RFC 7636's 43-128
}

export function challengeOf(verifier: string): string {
	return base64url(createHash('sha256').update(verifier).digest());
}

export function newState(): string {
	return base64url(randomBytes(24));
}

export function redirectUri(event: RequestEvent): string {
	return `${event.url.origin}/auth/callback`;
}

/** A same-origin path to go back to after signing in, or null for anything else (and for the
 * sign-in pages themselves, which would only lead back here). */
export function safeRedirect(target: string | null | undefined): string | null {
	const path = samePath(target);
	if (path === null || path === '/auth' || path.startsWith('/auth/')) return null;
	return path;
}

// --- cookies ---------------------------------------------------------------------------------

function cookieOptions(event: RequestEvent, maxAge: number) {
	return {
		path: '/',
		httpOnly: true,
		sameSite: 'lax' as const,
		secure: event.url.protocol === 'https:',
		maxAge
	};
}

export function setTokens(event: RequestEvent, tokens: TokenResponse): void {
	event.cookies.set(ACCESS_COOKIE, tokens.access_token, cookieOptions(event, tokens.expires_in));
	event.cookies.set(REFRESH_COOKIE, tokens.refresh_token, cookieOptions(event, REFRESH_MAX_AGE));
}

export function clearTokens(cookies: Cookies): void {
	cookies.delete(ACCESS_COOKIE, { path: '/' });
	cookies.delete(REFRESH_COOKIE, { path: '/' });
}

/** Seconds until the JWT's `exp`; the API verifies the signature, this only schedules a refresh. */
export function secondsLeft(accessToken: string): number {
	try {
		const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
		return typeof payload.exp === 'number' ? payload.exp - Date.now() / 1000 : 0;
	} catch {
		return 0;
	}
}

export function needsRefresh(accessToken: string | undefined): boolean {
	return !accessToken || secondsLeft(accessToken) < REFRESH_AHEAD_SECONDS;
}

// --- calls to the authorization server -------------------------------------------------------

function forwarded(event: RequestEvent): Record<string, string> {
	// The API throttles sign-in per address: tell it the browser's, not ours.
	try {
		return { 'x-forwarded-for': event.getClientAddress() };
	} catch {
		return {};
	}
}

/** Why the authorization server refused, or could not be asked; `retryAfter` is from its header. */
export type AuthProblem = Pick<Problem, 'status' | 'code' | 'detail'> & {
	retryAfter?: number;
	errors?: ProblemField[];
};

/** A refusal as the pages read it: a problem+json body, or the token endpoint's OAuth error. */
function problemOf(response: Response, error: unknown): AuthProblem {
	const body = (error && typeof error === 'object' ? error : {}) as Partial<Problem> &
		Partial<Schemas['OAuthErrorBody']>;
	const retry = Number(response.headers.get('retry-after'));
	return {
		status: response.status,
		code: String(body.code ?? body.error ?? 'error'),
		detail: String(body.detail ?? body.error_description ?? `HTTP ${response.status}`),
		retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
		errors: Array.isArray(body.errors) ? body.errors : undefined
	};
}

const UNREACHABLE: AuthProblem = {
	status: 502,
	code: 'api_unreachable',
	detail: 'The server could not be reached. Try again in a moment.'
};

/** The API's answer, or null when it could not be reached or did not answer in time. */
async function reach<T>(request: Promise<T>): Promise<T | null> {
	try {
		return await request;
	} catch {
		return null;
	}
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export async function redeemCode(
	event: RequestEvent,
	code: string,
	verifier: string
): Promise<TokenResponse | AuthProblem> {
	const answer = await reach(
		api().POST('/api/oauth/token', {
			headers: { ...FORM, ...forwarded(event) },
			body: {
				grant_type: 'authorization_code',
				code,
				code_verifier: verifier,
				client_id: CLIENT_ID,
				redirect_uri: redirectUri(event)
			}
		})
	);
	if (!answer) return UNREACHABLE;
	if (!answer.data) return problemOf(answer.response, answer.error);
	return answer.data;
}

/** The whole first-party code flow for an e-mail and password; sets the cookies on success. */
export async function signInWithPassword(
	event: RequestEvent,
	email: string,
	password: string
): Promise<AuthProblem | null> {
	const verifier = newVerifier();
	const state = newState();
	const answer = await reach(
		api().POST('/api/oauth/authorize', {
			headers: forwarded(event),
			body: {
				email,
				password,
				client_id: CLIENT_ID,
				redirect_uri: redirectUri(event),
				code_challenge: challengeOf(verifier),
				code_challenge_method: 'S256',
				state
			}
		})
	);
	if (!answer) return UNREACHABLE;
	if (!answer.data) return problemOf(answer.response, answer.error);
	const grant = answer.data;
	if (grant.state !== state) {
		return { status: 502, code: 'state_mismatch', detail: 'Sign-in failed. Please try again.' };
	}
	const tokens = await redeemCode(event, grant.code, verifier);
	if ('status' in tokens) return tokens;
	setTokens(event, tokens);
	return null;
}

export async function signUp(
	event: RequestEvent,
	body: { email: string; password: string; full_name: string }
): Promise<AuthProblem | null> {
	const answer = await reach(api().POST('/api/auth/signup', { headers: forwarded(event), body }));
	if (!answer) return UNREACHABLE;
	return answer.response.ok ? null : problemOf(answer.response, answer.error);
}

export async function revoke(token: string): Promise<void> {
	await reach(
		api().POST('/api/oauth/revoke', {
			headers: FORM,
			body: { token, token_type_hint: 'refresh_token', client_id: CLIENT_ID }
		})
	);
}

// Concurrent requests often carry the same refresh token (a page and its data requests, two
// tabs). The API ends the whole session when a rotated token is presented again, so they must
// share one rotation; the result is kept briefly for requests that still carry the old cookie.
const rotations = new Map<string, Promise<TokenResponse | null>>();
const ROTATION_MEMORY_MS = 30_000;

export function rotate(refreshToken: string): Promise<TokenResponse | null> {
	const key = createHash('sha256').update(refreshToken).digest('hex');
	let pending = rotations.get(key);
	if (!pending) {
		pending = (async () => {
			const answer = await reach(
				api().POST('/api/oauth/token', {
					headers: FORM,
					body: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID }
				})
			);
			if (!answer) {
				rotations.delete(key); // the API was unreachable: a later request may try again
				return null;
			}
			return answer.data ?? null;
		})();
		rotations.set(key, pending);
		setTimeout(() => rotations.delete(key), ROTATION_MEMORY_MS).unref?.();
	}
	return pending;
}

export type MeResult = { user: User } | { user: null; status: number };

export async function fetchMe(accessToken: string): Promise<MeResult> {
	const answer = await reach(api(fetch, { accessToken }).GET('/api/users/me'));
	if (!answer) return { user: null, status: 502 };
	if (!answer.data) return { user: null, status: answer.response.status };
	return { user: answer.data };
}

export async function providers(): Promise<Schemas['Provider'][]> {
	const answer = await reach(api().GET('/api/auth/providers'));
	return answer?.data ?? [];
}

/** "Try again in 3 minutes" from a Retry-After in seconds. */
export function retryText(seconds: number | undefined): string {
	if (!seconds) return 'Try again later.';
	if (seconds < 60) return `Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
	const minutes = Math.ceil(seconds / 60);
	return `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
