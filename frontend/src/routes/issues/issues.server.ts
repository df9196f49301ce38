// Server-side access to the issue API for the /issues pages, on behalf of the signed-in user.
// hooks.server.ts resolves the session (refreshing the access token when it is about to expire)
// and sends anonymous visitors to sign in; the token stays on the server, never in the page.
// The API decides what the caller may see.
import { error, fail, redirect, type RequestEvent } from '@sveltejs/kit';
import type { Problem } from '$lib/api/problem';
import { api, type ApiClient } from '$lib/server/api';

/** An error body as far as these pages read it: any field may be missing but the status. */
type ReceivedProblem = Pick<Problem, 'status'> &
	Partial<Pick<Problem, 'code' | 'detail' | 'errors'>>;

function signIn(url: URL): never {
	redirect(303, `/auth/signin?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
}

type SessionEvent = Pick<RequestEvent, 'locals' | 'fetch' | 'url'>;

/** A typed API client acting as the signed-in user; sends anonymous visitors to sign in. */
export function issueApi(event: SessionEvent, options: { timeoutMs?: number } = {}): ApiClient {
	const token = event.locals.accessToken;
	if (!event.locals.user || !token) signIn(event.url);
	return api(event.fetch, { accessToken: token, ...options });
}

/** Files take longer than the usual API call: the API checks, thumbnails and stores each. */
export const UPLOAD_TIMEOUT_MS = 120_000;

/** The files a form posted, without the empty part a file input left blank sends. */
export function chosenFiles(form: FormData, name = 'file'): File[] {
	return form
		.getAll(name)
		.filter((v): v is File => typeof v !== 'string' && (v.size > 0 || v.name !== ''));
}

/** Problem codes about the files of a request rather than its fields. */
const FILE_PROBLEMS = new Set([
	'file_too_large',
	'file_type_not_allowed',
	'empty_file',
	'invalid_json',
	'corrupt_image',
	'image_too_large',
	'too_many_files',
	'too_many_attachments',
	'unexpected_file',
	'upload_interrupted'
]);

export function isFileProblem(status: number, body: unknown): boolean {
	const code = problemOf(body, status).code;
	return status === 413 || status === 415 || (code !== undefined && FILE_PROBLEMS.has(code));
}

export function problemOf(body: unknown, status: number): ReceivedProblem {
	if (body && typeof body === 'object') {
		return { status, ...(body as Omit<ReceivedProblem, 'status'>) };
	}
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
