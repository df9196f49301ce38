// GET /issues/<id>/mentionable?q=ra → [{id, username, full_name}]: who `@ra` could mention on the
// issue (people who may see it), for the editor's suggestions. Asked here rather than of /api
// from the page, so the session is refreshed on the way like for any page of the tracker.
import { json } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { QUERY_MAX } from '$lib/notifications/mentions';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ params, url, locals, fetch }) => {
	const issueId = Number(params.id);
	if (!Number.isInteger(issueId) || issueId < 1 || issueId > 2 ** 31 - 1) {
		return json([], { status: 404 });
	}
	if (!locals.user || !locals.accessToken) return json([], { status: 401 });
	const q = (url.searchParams.get('q') ?? '').slice(0, QUERY_MAX);
	try {
		const { data, response } = await api(fetch, { accessToken: locals.accessToken }).GET(
			'/api/users/mentionable',
			{ params: { query: { issue_id: issueId, q, limit: 8 } } }
		);
		if (!data) return json([], { status: response.status === 404 ? 404 : 502 });
		return json(data, { headers: { 'cache-control': 'private, no-store' } });
	} catch {
		return json([], { status: 502 });
	}
};
