// An issue's discussion and history, read page by page through the API's cursors.
//
// Comments and events are two lists, each oldest first with an "after id" cursor; the page shows
// them as one timeline. When one list has more pages, only the part of the timeline up to its last
// loaded item is complete: the other list's later items would otherwise appear without the
// comments (or changes) that came between them. So the timeline is cut there, and "Show more"
// (`?pages=N`) reads the next page of the list that holds it back.
//
// The page count lives in the URL, so every reload of the page (a live update, a saved form)
// reads the same span again, fresh: edits and deletions anywhere in it show up too. It also
// works without JavaScript.
import { micros } from '$lib/components/issues/time';
import type { ApiClient, Schemas } from '$lib/server/api';

type Comment = Schemas['CommentOut'];
type Event = Schemas['EventOut'];

/** Items per request: the API's largest page. */
export const HISTORY_PAGE = 200;
/** Steps one page view may read (up to 20,000 comments); past that, "Show more" is not offered. */
export const MAX_HISTORY_PAGES = 100;

export interface History {
	comments: Comment[];
	events: Event[];
	/** How many steps were read: at most the `pages` parameter, fewer once everything was. */
	pages: number;
	/** Whether older-to-newer reading stopped before the end: some of the history is not shown. */
	more: boolean;
	/** Whether another "Show more" is possible (false at the page limit). */
	canLoadMore: boolean;
}

export type HistoryResult =
	{ ok: true; history: History } | { ok: false; status: number; error: unknown };

/** `?pages=N` as a page count: 1 by default, at most MAX_HISTORY_PAGES. */
export function pagesParam(url: URL): number {
	const raw = url.searchParams.get('pages');
	if (raw === 'all') return MAX_HISTORY_PAGES;
	const n = Number(raw);
	return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_HISTORY_PAGES) : 1;
}

interface Stream<T> {
	items: T[];
	cursor: string | null;
}

/** Where the complete part of the timeline ends: the earliest last item of a list with more. */
function end(comments: Stream<Comment>, events: Stream<Event>): number | null {
	const ends = [comments, events]
		.filter((s) => s.cursor !== null && s.items.length > 0)
		.map((s) => micros(s.items[s.items.length - 1].created_at));
	return ends.length ? Math.min(...ends) : null;
}

/**
 * Read `pages` steps of an issue's comments and events: the first page of each, then one more
 * page of whichever list holds the timeline back, per step. The result is cut where the
 * timeline stops being complete.
 */
export async function loadHistory(
	client: ApiClient,
	issueId: number,
	pages: number
): Promise<HistoryResult> {
	const comments: Stream<Comment> = { items: [], cursor: null };
	const events: Stream<Event> = { items: [], cursor: null };
	const failed: { status: number; error: unknown }[] = [];

	async function readComments(cursor?: string) {
		const { data, response, error } = await client.GET('/api/issues/{issue_id}/comments', {
			params: { path: { issue_id: issueId }, query: { limit: HISTORY_PAGE, cursor } }
		});
		if (!data) failed.push({ status: response.status, error });
		else {
			comments.items.push(...data.items);
			comments.cursor = data.next_cursor;
		}
	}
	async function readEvents(cursor?: string) {
		const { data, response, error } = await client.GET('/api/issues/{issue_id}/events', {
			params: { path: { issue_id: issueId }, query: { limit: HISTORY_PAGE, cursor } }
		});
		if (!data) failed.push({ status: response.status, error });
		else {
			events.items.push(...data.items);
			events.cursor = data.next_cursor;
		}
	}

	await Promise.all([readComments(), readEvents()]);
	let step = 1;
	for (; step < pages && failed.length === 0; step++) {
		const cut = end(comments, events);
		if (cut === null) break;
		const last = (s: Stream<{ created_at: string }>) =>
			micros(s.items[s.items.length - 1].created_at);
		await Promise.all([
			comments.cursor !== null && last(comments) === cut ? readComments(comments.cursor) : null,
			events.cursor !== null && last(events) === cut ? readEvents(events.cursor) : null
		]);
	}
	if (failed.length) return { ok: false, ...failed[0] };

	const cut = end(comments, events);
	const shown = <T extends { created_at: string }>(items: T[]) =>
		cut === null ? items : items.filter((i) => micros(i.created_at) <= cut);
	return {
		ok: true,
		history: {
			comments: shown(comments.items),
			events: shown(events.items),
			pages: step,
			more: cut !== null,
			canLoadMore: cut !== null && step < MAX_HISTORY_PAGES
		}
	};
}
