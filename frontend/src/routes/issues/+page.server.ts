import type { PageServerLoad } from './$types';
import type { Schemas } from '$lib/server/api';
import { streamPosition } from '$lib/server/realtime';
import { failLoad, issueApi } from './issues.server';
import { filtersOf, listQuery } from './list-query';

export const load: PageServerLoad = async (event) => {
	const { url, setHeaders } = event;
	const client = issueApi(event);
	const filters = filtersOf(url.searchParams);
	const cursor = url.searchParams.get('cursor') ?? undefined;

	// Before the data: live updates start from here, so nothing committed meanwhile is missed.
	const position = await streamPosition(client);
	const [list, tags, assignees] = await Promise.all([
		client.GET('/api/issues', { params: { query: listQuery(filters, cursor) } }),
		client.GET('/api/tags', { params: { query: { limit: 200 } } }),
		// Only staff may assign, so only staff get this list (and the assignee filter).
		client.GET('/api/issues/assignees')
	]);
	if (!list.data) failLoad(url, list.response.status, list.error);
	// And after: a change with an id up to here may or may not be in the rows just read.
	const through = await streamPosition(client);
	setHeaders({ 'cache-control': 'private, no-store' });

	return {
		filters,
		cursor: cursor ?? null,
		page: list.data,
		tags: (tags.data ?? []) as Schemas['TagOut'][],
		assignees: assignees.data ?? null,
		position,
		through
	};
};
