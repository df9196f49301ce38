// The inbox's address: which notifications (all, or the unread ones) and from where (a cursor
// from "Load more" without JavaScript). Plain links and forms carry it, so it works without JS.

export type InboxFilter = 'all' | 'unread';

export interface InboxQuery {
	filter: InboxFilter;
	cursor: string | null;
}

/** Cursors the API hands out are notification ids; anything else is ignored. */
const CURSOR = /^[1-9]\d{0,18}$/;

export function inboxQueryOf(params: URLSearchParams): InboxQuery {
	const cursor = params.get('cursor');
	return {
		filter: params.get('filter') === 'unread' ? 'unread' : 'all',
		cursor: cursor && CURSOR.test(cursor) ? cursor : null
	};
}

/** The inbox page for `query`: `/inbox`, `/inbox?filter=unread&cursor=41`… */
export function inboxHref(query: Partial<InboxQuery>): string {
	const params = new URLSearchParams();
	if (query.filter === 'unread') params.set('filter', 'unread');
	if (query.cursor) params.set('cursor', query.cursor);
	const qs = params.toString();
	return qs ? `/inbox?${qs}` : '/inbox';
}

/** A form action of the inbox that comes back to the same list: `/inbox?filter=unread&/read`. */
export function inboxAction(name: string, query: Partial<InboxQuery>): string {
	const href = inboxHref(query);
	return `${href}${href.includes('?') ? '&' : '?'}/${name}`;
}
