import type { PageServerLoad } from './$types';
import type { Schemas } from '$lib/server/api';
import { streamPosition } from '$lib/server/realtime';
import { failLoad, issueApi } from './issues.server';
import { oneOf, SEVERITIES, STATUSES, type Severity, type Status } from '$lib/api/enums';

const SORTS = ['-created', 'created', '-updated', 'updated', '-severity', 'severity'] as const;

type Sort = (typeof SORTS)[number];

export const load: PageServerLoad = async (event) => {
	const { url, setHeaders } = event;
	const client = issueApi(event);
	const p = url.searchParams;
	const filters = {
		q: (p.get('q') ?? '').trim().slice(0, 200),
		status: oneOf(STATUSES, p.get('status')) ?? '',
		severity: oneOf(SEVERITIES, p.get('severity')) ?? '',
		tag: (p.get('tag') ?? '').trim().slice(0, 30),
		assignee: /^(\d{1,10}|me|none)$/.test(p.get('assignee') ?? '') ? p.get('assignee')! : '',
		sort: oneOf(SORTS, p.get('sort')) ?? ''
	};
	const cursor = p.get('cursor') ?? undefined;

	// Before the data: live updates start from here, so nothing committed meanwhile is missed.
	const position = await streamPosition(client);
	const [list, tags, assignees] = await Promise.all([
		client.GET('/api/issues', {
			params: {
				query: {
					q: filters.q || undefined,
					status: filters.status ? [filters.status as Status] : undefined,
					severity: filters.severity ? [filters.severity as Severity] : undefined,
					tag: filters.tag ? [filters.tag] : undefined,
					assignee_id: filters.assignee || undefined,
					sort: filters.sort ? (filters.sort as Sort) : undefined,
					cursor,
					limit: 25
				}
			}
		}),
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
