// The issue list's filters: read from the page's URL (a GET form, so they work without
// JavaScript), and sent as the query of GET /api/issues by the server's load and by the browser's
// "Load more" and live refreshes alike.
import type { paths } from '$lib/api/schema';
import {
	everyMember,
	oneOf,
	SEVERITIES,
	STATUSES,
	type Severity,
	type Status
} from '$lib/api/enums';

export type ListQuery = NonNullable<paths['/api/issues']['get']['parameters']['query']>;
type Sort = NonNullable<ListQuery['sort']>;

const SORTS = everyMember<Sort>()([
	'-created',
	'created',
	'-updated',
	'updated',
	'-severity',
	'severity'
]);

/** Rows per page, on first load and per "Load more". */
export const LIST_PAGE = 25;

/** The filters as the page shows them; '' is "any". */
export interface ListFilters {
	q: string;
	status: Status | '';
	severity: Severity | '';
	tag: string;
	/** A user id, `me` or `none`. */
	assignee: string;
	sort: Sort | '';
}

/** The filters in a page URL's query; values the API would refuse are dropped. */
export function filtersOf(params: URLSearchParams): ListFilters {
	const assignee = params.get('assignee') ?? '';
	return {
		q: (params.get('q') ?? '').trim().slice(0, 200),
		status: oneOf(STATUSES, params.get('status')) ?? '',
		severity: oneOf(SEVERITIES, params.get('severity')) ?? '',
		tag: (params.get('tag') ?? '').trim().slice(0, 30),
		assignee: /^(\d{1,10}|me|none)$/.test(assignee) ? assignee : '',
		sort: oneOf(SORTS, params.get('sort')) ?? ''
	};
}

/** The query of GET /api/issues for one page of the list with these filters. */
export function listQuery(filters: ListFilters, cursor?: string): ListQuery {
	return {
		q: filters.q || undefined,
		status: filters.status ? [filters.status] : undefined,
		severity: filters.severity ? [filters.severity] : undefined,
		tag: filters.tag ? [filters.tag] : undefined,
		assignee_id: filters.assignee || undefined,
		sort: filters.sort || undefined,
		cursor,
		limit: LIST_PAGE
	};
}

/**
 * The query of GET /api/issues/export for the list with these filters: the same issues, whatever
 * the list's sort or page (an export is in issue order and whole).
 */
export function exportQuery(filters: ListFilters, format: string | null): URLSearchParams {
	const query = new URLSearchParams({ format: format === 'json' ? 'json' : 'csv' });
	if (filters.q) query.set('q', filters.q);
	if (filters.status) query.set('status', filters.status);
	if (filters.severity) query.set('severity', filters.severity);
	if (filters.tag) query.set('tag', filters.tag);
	if (filters.assignee) query.set('assignee_id', filters.assignee);
	return query;
}

/** The list page's own query string for the export link: its filters, without cursor or sort. */
export function exportHref(params: URLSearchParams, format: 'csv' | 'json'): string {
	const query = new URLSearchParams({ format });
	for (const [key, value] of params) {
		if (key !== 'cursor' && key !== 'sort' && key !== 'limit' && key !== 'format') {
			query.append(key, value);
		}
	}
	return `/issues/export?${query}`;
}
