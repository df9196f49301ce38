// Server-side access to the issue API for the /issues pages. The signed-in user's access token
// lives in the httpOnly `tracker_access` cookie; it is forwarded as a Bearer token and never
// reaches page JavaScript. The API decides what the caller may see.
import { error, fail, redirect, type Cookies } from '@sveltejs/kit';
import { api, type ApiClient } from '$lib/server/api';

export const ACCESS_COOKIE = 'tracker_access';

export interface Problem {
	status: number;
	code?: string;
	detail?: string;
	allowed?: string[];
	errors?: { field: string; message: string }[];
}

function signIn(url: URL): never {
	redirect(303, `/auth/signin?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
}

/** A typed API client acting as the signed-in user; sends anonymous visitors to sign in. */
export function issueApi(event: { cookies: Cookies; fetch: typeof fetch; url: URL }): ApiClient {
	const token = event.cookies.get(ACCESS_COOKIE);
	if (!token) signIn(event.url);
	return api(event.fetch, { accessToken: token });
}

export function problemOf(body: unknown, status: number): Problem {
	if (body && typeof body === 'object') return { status, ...(body as Omit<Problem, 'status'>) };
	return { status };
}

/** For loads: a 401 means the session ended; anything else becomes the page's error state. */
export function failLoad(url: URL, status: number, body: unknown): never {
	if (status === 401) signIn(url);
	const problem = problemOf(body, status);
	error(status === 404 ? 404 : status >= 500 ? 502 : status, {
		message:
			status === 404
				? 'This issue does not exist, or you do not have access to it.'
				: (problem.detail ?? 'The tracker could not load this page.'),
		code: problem.code
	});
}

const CONFLICT_MESSAGES: Record<number, string> = {
	412: 'This issue changed since you opened it — reload to see the latest version, then try again.',
	428: 'This issue changed since you opened it — reload to see the latest version, then try again.'
};

/** For actions: turn an API problem into a form failure the page can show next to the form. */
export function failAction(
	url: URL,
	status: number,
	body: unknown,
	extra: Record<string, unknown> = {}
) {
	if (status === 401) signIn(url);
	const problem = problemOf(body, status);
	const fieldErrors: Record<string, string> = {};
	for (const e of problem.errors ?? []) fieldErrors[e.field] = e.message;
	const message =
		CONFLICT_MESSAGES[status] ??
		(status === 409
			? `${problem.detail ?? 'That step is not allowed.'}`
			: (problem.detail ?? 'Something went wrong. Please try again.'));
	return fail(status >= 400 && status < 600 ? status : 500, {
		...extra,
		message,
		code: problem.code,
		stale: status === 412 || status === 428,
		fieldErrors
	});
}

/** The If-Match value for the version a page was loaded with. */
export function ifMatch(form: FormData): string {
	const version = String(form.get('version') ?? '');
	return `"${/^\d+$/.test(version) ? version : '0'}"`;
}

/** "a, b ,c" → ["a", "b", "c"]: the tags field is a comma-separated list. */
export function parseTags(raw: FormDataEntryValue | null): string[] {
	return String(raw ?? '')
		.split(',')
		.map((t) => t.trim())
		.filter(Boolean);
}
