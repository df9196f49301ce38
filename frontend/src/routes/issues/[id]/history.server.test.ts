import { describe, expect, test } from 'vitest';
import type { components } from '$lib/api/schema';
import type { ApiClient } from '$lib/server/api';
import { HISTORY_PAGE, loadHistory, MAX_HISTORY_PAGES, pagesParam } from './history.server';

type Comment = components['schemas']['CommentOut'];
type Event = components['schemas']['EventOut'];

const ada = { id: 1, full_name: 'Ada Lovelace' };

/** Minute `n` of a day, with microseconds, as the API writes timestamps. */
const at = (n: number) => `2025-03-01T10:${String(n).padStart(2, '0')}:00.000123Z`;

function comment(id: number, minute: number): Comment {
	return {
		id,
		issue_id: 1,
		author: ada,
		body: `Comment ${id}`,
		body_html: `<p>Comment ${id}</p>`,
		can_edit: false,
		can_delete: false,
		edited: false,
		created_at: at(minute),
		updated_at: at(minute)
	};
}

function event(id: number, minute: number): Event {
	return { id, issue_id: 1, kind: 'issue.updated', actor: ada, data: {}, created_at: at(minute) };
}

/**
 * An API holding these comments and events, `pageSize` per page (the real API gives
 * HISTORY_PAGE); it records every request. `fail` answers the events with that status.
 */
function fakeApi(
	comments: Comment[],
	events: Event[],
	{ pageSize = HISTORY_PAGE, fail }: { pageSize?: number; fail?: number } = {}
) {
	const requests: string[] = [];
	function page<T>(items: T[], cursor: string | undefined) {
		const start = cursor ? Number(cursor) : 0;
		const end = start + pageSize;
		return { items: items.slice(start, end), next_cursor: end < items.length ? String(end) : null };
	}
	const client = {
		async GET(path: string, init: { params: { query: { limit: number; cursor?: string } } }) {
			const { cursor, limit } = init.params.query;
			expect(limit).toBe(HISTORY_PAGE);
			const list = path.endsWith('/comments') ? 'comments' : 'events';
			requests.push(`${list}${cursor ? `@${cursor}` : ''}`);
			if (list === 'events' && fail) {
				return {
					error: { detail: 'Nope' },
					response: new Response(null, { status: fail })
				};
			}
			return {
				data: list === 'comments' ? page(comments, cursor) : page(events, cursor),
				response: new Response(null, { status: 200 })
			};
		}
	};
	return { client: client as unknown as ApiClient, requests };
}

const ids = (items: { id: number }[]) => items.map((i) => i.id);

describe('pagesParam: how much of the history the URL asks for', () => {
	test.each([
		['', 1],
		['?pages=3', 3],
		['?pages=0', 1],
		['?pages=-2', 1],
		['?pages=2.5', 1],
		['?pages=lots', 1],
		[`?pages=${MAX_HISTORY_PAGES + 50}`, MAX_HISTORY_PAGES],
		['?pages=all', MAX_HISTORY_PAGES]
	])('%s reads %i step(s)', (search, pages) => {
		expect(pagesParam(new URL(`http://tracker.test/issues/1${search}`))).toBe(pages);
	});
});

describe('loadHistory: the part of the timeline that is complete', () => {
	test('a short history is read whole in one step', async () => {
		const { client, requests } = fakeApi([comment(1, 1), comment(2, 3)], [event(1, 2)]);
		const result = await loadHistory(client, 1, 1);
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(ids(result.history.comments)).toEqual([1, 2]);
		expect(ids(result.history.events)).toEqual([1]);
		expect(result.history).toMatchObject({ pages: 1, more: false, canLoadMore: false });
		expect(requests).toEqual(['comments', 'events']);
	});

	test('stops where one list has more: no later item of the other shows without what came between', async () => {
		// Comments at minutes 1..4, two per page; events at minutes 2 and 5.
		const comments = [comment(1, 1), comment(2, 3), comment(3, 4), comment(4, 6)];
		const { client } = fakeApi(comments, [event(1, 2), event(2, 5)], { pageSize: 2 });
		const result = await loadHistory(client, 1, 1);
		if (!result.ok) throw new Error('expected the history');
		// The first page of comments ends at minute 3: the event at minute 5 must wait.
		expect(ids(result.history.comments)).toEqual([1, 2]);
		expect(ids(result.history.events)).toEqual([1]);
		expect(result.history).toMatchObject({ pages: 1, more: true, canLoadMore: true });
	});

	test('"Show more" reads the next page of the list that holds the timeline back, and only it', async () => {
		const comments = [comment(1, 1), comment(2, 3), comment(3, 4), comment(4, 6)];
		const { client, requests } = fakeApi(comments, [event(1, 2), event(2, 5)], { pageSize: 2 });
		const result = await loadHistory(client, 1, 2);
		if (!result.ok) throw new Error('expected the history');
		expect(requests).toEqual(['comments', 'events', 'comments@2']);
		expect(ids(result.history.comments)).toEqual([1, 2, 3, 4]);
		expect(ids(result.history.events)).toEqual([1, 2]);
		expect(result.history).toMatchObject({ pages: 2, more: false });
	});

	test('when both lists have more, the one that ends first decides where the timeline stops', async () => {
		const comments = [comment(1, 1), comment(2, 3), comment(3, 6)];
		const events = [event(1, 2), event(2, 4), event(3, 5), event(4, 7)];
		const { client, requests } = fakeApi(comments, events, { pageSize: 2 });

		const first = await loadHistory(client, 1, 1);
		if (!first.ok) throw new Error('expected the history');
		// Comments stop at minute 3, events at minute 4: the change at minute 4 waits.
		expect(ids(first.history.comments)).toEqual([1, 2]);
		expect(ids(first.history.events)).toEqual([1]);

		requests.length = 0;
		const second = await loadHistory(client, 1, 2);
		if (!second.ok) throw new Error('expected the history');
		expect(requests).toEqual(['comments', 'events', 'comments@2']);
		expect(ids(second.history.comments)).toEqual([1, 2]);
		expect(ids(second.history.events)).toEqual([1, 2]);
		expect(second.history.more).toBe(true);
	});

	test('reads no further than needed, even when more steps were asked for', async () => {
		const { client, requests } = fakeApi([comment(1, 1)], [event(1, 2)]);
		const result = await loadHistory(client, 1, MAX_HISTORY_PAGES);
		if (!result.ok) throw new Error('expected the history');
		expect(result.history.pages).toBe(1);
		expect(requests).toHaveLength(2);
	});

	test('offers no "Show more" past the page limit', async () => {
		const comments = Array.from({ length: MAX_HISTORY_PAGES + 1 }, (_, i) => comment(i + 1, 0));
		const { client } = fakeApi(comments, [], { pageSize: 1 });
		const result = await loadHistory(client, 1, MAX_HISTORY_PAGES);
		if (!result.ok) throw new Error('expected the history');
		expect(result.history).toMatchObject({
			pages: MAX_HISTORY_PAGES,
			more: true,
			canLoadMore: false
		});
	});

	test('a refused read is reported with its status, not shown as an empty history', async () => {
		const { client } = fakeApi([comment(1, 1)], [event(1, 2)], { fail: 404 });
		const result = await loadHistory(client, 1, 1);
		expect(result).toEqual({ ok: false, status: 404, error: { detail: 'Nope' } });
	});
});
