// GET /issues/export?format=csv|json&<the list's filters>: the issues the list shows, as a file.
// The browser never holds a token, so it cannot call GET /api/issues/export itself: this route
// calls it with the session's access token and streams the answer through as it arrives (an
// export can be every issue there is), with the API's Content-Type and Content-Disposition.
import { error, redirect } from '@sveltejs/kit';
import { apiUrl } from '$lib/server/api';
import type { RequestHandler } from './$types';
import { exportQuery, filtersOf } from '../list-query';

/** Waiting for the API to start answering; the body itself may take as long as it needs. */
const HEADERS_TIMEOUT_MS = 30_000;

export const GET: RequestHandler = async ({ url, locals, request }) => {
	const token = locals.accessToken;
	if (!locals.user || !token) {
		redirect(303, `/auth/signin?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
	}
	const started = new AbortController();
	const timer = setTimeout(() => started.abort(), HEADERS_TIMEOUT_MS);
	let upstream: Response;
	try {
		upstream = await fetch(
			`${apiUrl()}/api/issues/export?${exportQuery(filtersOf(url.searchParams), url.searchParams.get('format'))}`,
			{
				headers: { authorization: `Bearer ${token}`, accept: 'text/csv, application/json' },
				// A download the browser gives up on stops the API's export too.
				signal: AbortSignal.any([started.signal, request.signal])
			}
		);
	} catch {
		error(502, { message: 'The tracker could not start the export. Please try again.' });
	} finally {
		clearTimeout(timer);
	}
	if (!upstream.ok || !upstream.body) {
		const problem = (await upstream.json().catch(() => null)) as { detail?: string } | null;
		error(upstream.status >= 500 ? 502 : upstream.status, {
			message: problem?.detail ?? 'The export could not be made.'
		});
	}
	const headers = new Headers({ 'cache-control': 'private, no-store' });
	for (const name of ['content-type', 'content-disposition']) {
		const value = upstream.headers.get(name);
		if (value) headers.set(name, value);
	}
	return new Response(upstream.body, { status: 200, headers });
};
