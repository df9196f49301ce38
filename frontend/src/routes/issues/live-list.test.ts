import { describe, expect, test } from 'vitest';
import type { components } from '$lib/api/schema';
import type { RealtimeEvent } from '$lib/realtime';
import { appendNew, applyEvent, liveChange, matchesFilters, mergeHead } from './live-list';
import type { ListFilters } from './list-query';

type Item = components['schemas']['IssueListItem'];

const ada = { id: 1, full_name: 'Ada Lovelace' };
const grace = { id: 2, full_name: 'Grace Hopper' };

function item(id: number, extra: Partial<Item> = {}): Item {
	return {
		id,
		title: `Issue ${id}`,
		status: 'OPEN',
		severity: 'MEDIUM',
		tags: [],
		assignee: null,
		reporter: ada,
		comment_count: 0,
		created_at: '2025-01-01T10:00:00Z',
		updated_at: '2025-01-01T10:00:00Z',
		resolved_at: null,
		version: 1,
		...extra
	};
}

function event(kind: string, issueId: number, data: Record<string, unknown> = {}): RealtimeEvent {
	return {
		type: 'event',
		id: 100,
		channel: 'issues',
		kind,
		data,
		issue_id: issueId,
		actor: grace,
		created_at: '2025-01-02T09:30:00Z'
	};
}

const noFilters: ListFilters = {
	q: '',
	status: '',
	severity: '',
	tag: '',
	assignee: '',
	sort: ''
};

describe('liveChange: what a live event does to the list shown', () => {
	const rows = [item(3), item(2), item(1)];
	const firstPage = { through: 50, laterPage: false };

	test('an update to an issue on the page changes that row only', () => {
		const change = liveChange(
			rows,
			event('issue.updated', 2, { changes: { title: ['Issue 2', 'Renamed'] } }),
			firstPage
		);
		expect(change.rows?.map((r) => r.title)).toEqual(['Issue 3', 'Renamed', 'Issue 1']);
		expect(change.readHead).toBeUndefined();
	});

	test('a comment on an issue that is not on the page is ignored', () => {
		expect(liveChange(rows, event('comment.created', 99), firstPage)).toEqual({});
	});

	test('an update to an issue not on the page reads the first page again: it may match now', () => {
		expect(liveChange(rows, event('issue.updated', 99), firstPage)).toEqual({ readHead: true });
	});

	test('a new issue reads the first page again', () => {
		expect(liveChange(rows, event('issue.created', 4), firstPage)).toEqual({ readHead: true });
	});

	test('a deleted issue leaves the list; one not shown changes nothing', () => {
		expect(liveChange(rows, event('issue.deleted', 2), firstPage).rows?.map((r) => r.id)).toEqual([
			3, 1
		]);
		expect(liveChange(rows, event('issue.deleted', 99), firstPage)).toEqual({});
	});

	test('a change the rows may already hold is read again, not applied twice', () => {
		const replayed = { ...event('comment.created', 2), id: 40 };
		expect(liveChange(rows, replayed, firstPage)).toEqual({ readHead: true });
		const later = { ...event('comment.created', 2), id: 51 };
		expect(liveChange(rows, later, firstPage).rows?.[1].comment_count).toBe(1);
	});

	test('on a later page, rows are patched even for changes that may be in them', () => {
		const replayed = { ...event('comment.created', 2), id: 40 };
		const change = liveChange(rows, replayed, { through: 50, laterPage: true });
		expect(change.rows?.[1].comment_count).toBe(1);
	});

	test('a signal without an issue changes nothing', () => {
		expect(liveChange(rows, { ...event('stats.updated', 1), issue_id: null }, firstPage)).toEqual(
			{}
		);
	});
});

describe('applyEvent: a row after a live change', () => {
	test('takes the new values of the fields that changed, and nothing else', () => {
		const row = item(7, { title: 'Old title', tags: ['ui'] });
		const after = applyEvent(
			row,
			event('issue.updated', 7, { changes: { title: ['Old title', 'Checkout fails'] } })
		);
		expect(after.title).toBe('Checkout fails');
		expect(after.tags).toEqual(['ui']);
		expect(after.status).toBe('OPEN');
		expect(after.version).toBe(2);
		expect(after.updated_at).toBe('2025-01-02T09:30:00Z');
		expect(row.title).toBe('Old title');
	});

	test('marks an issue resolved when it is done, and unresolved when it is reopened', () => {
		const done = applyEvent(
			item(7),
			event('issue.updated', 7, { changes: { status: ['IN_PROGRESS', 'DONE'] } })
		);
		expect(done.status).toBe('DONE');
		expect(done.resolved_at).toBe('2025-01-02T09:30:00Z');

		const reopened = applyEvent(
			done,
			event('issue.updated', 7, { changes: { status: ['DONE', 'OPEN'] } })
		);
		expect(reopened.status).toBe('OPEN');
		expect(reopened.resolved_at).toBeNull();
	});

	test('assigns and unassigns', () => {
		const assigned = applyEvent(
			item(7),
			event('issue.updated', 7, { changes: { assignee: [null, grace] } })
		);
		expect(assigned.assignee).toEqual(grace);
		const unassigned = applyEvent(
			assigned,
			event('issue.updated', 7, { changes: { assignee: [grace, null] } })
		);
		expect(unassigned.assignee).toBeNull();
	});

	test('counts comments added and removed, never below zero', () => {
		const one = applyEvent(item(7), event('comment.created', 7));
		expect(one.comment_count).toBe(1);
		expect(one.updated_at).toBe('2025-01-02T09:30:00Z');
		expect(applyEvent(one, event('comment.deleted', 7)).comment_count).toBe(0);
		expect(applyEvent(item(7), event('comment.deleted', 7)).comment_count).toBe(0);
	});

	test('leaves the row as it is for changes the list does not show', () => {
		const row = item(7);
		expect(applyEvent(row, event('attachment.added', 7))).toBe(row);
		expect(applyEvent(row, event('comment.updated', 7))).toBe(row);
	});
});

describe('matchesFilters: whether a changed row still belongs in the filtered list', () => {
	test('every row matches no filters', () => {
		expect(matchesFilters(item(1, { status: 'DONE' }), noFilters, null)).toBe(true);
	});

	test('a row moved to another status no longer matches a status filter', () => {
		const filters = { ...noFilters, status: 'OPEN' as const };
		expect(matchesFilters(item(1), filters, null)).toBe(true);
		expect(matchesFilters(item(1, { status: 'TRIAGED' }), filters, null)).toBe(false);
	});

	test('severity must match', () => {
		const filters = { ...noFilters, severity: 'HIGH' as const };
		expect(matchesFilters(item(1, { severity: 'HIGH' }), filters, null)).toBe(true);
		expect(matchesFilters(item(1, { severity: 'LOW' }), filters, null)).toBe(false);
	});

	test('tags match whatever their case', () => {
		const filters = { ...noFilters, tag: 'Checkout' };
		expect(matchesFilters(item(1, { tags: ['safari', 'checkout'] }), filters, null)).toBe(true);
		expect(matchesFilters(item(1, { tags: ['safari'] }), filters, null)).toBe(false);
	});

	test('"mine", "unassigned" and a person', () => {
		const mine = { ...noFilters, assignee: 'me' };
		expect(matchesFilters(item(1, { assignee: ada }), mine, ada.id)).toBe(true);
		expect(matchesFilters(item(1, { assignee: grace }), mine, ada.id)).toBe(false);

		const none = { ...noFilters, assignee: 'none' };
		expect(matchesFilters(item(1), none, ada.id)).toBe(true);
		expect(matchesFilters(item(1, { assignee: grace }), none, ada.id)).toBe(false);

		const person = { ...noFilters, assignee: String(grace.id) };
		expect(matchesFilters(item(1, { assignee: grace }), person, ada.id)).toBe(true);
		expect(matchesFilters(item(1, { assignee: ada }), person, ada.id)).toBe(false);
	});

	test('a text search cannot be checked here, so it never hides a row', () => {
		expect(matchesFilters(item(1), { ...noFilters, q: 'nothing like it' }, null)).toBe(true);
	});
});

describe('mergeHead: folding a fresh first page into the rows shown', () => {
	test('replaces a row that changed, in place', () => {
		const rows = [item(3), item(2), item(1)];
		const head = [item(3), item(2, { title: 'Renamed', version: 2 }), item(1)];
		const merged = mergeHead(rows, head);
		expect(merged.map((r) => r.id)).toEqual([3, 2, 1]);
		expect(merged[1].title).toBe('Renamed');
	});

	test('puts a new issue where the fresh page has it: at the top, or after its neighbour', () => {
		const rows = [item(3), item(1)];
		expect(mergeHead(rows, [item(4), item(3), item(1)]).map((r) => r.id)).toEqual([4, 3, 1]);
		expect(mergeHead(rows, [item(3), item(2), item(1)]).map((r) => r.id)).toEqual([3, 2, 1]);
	});

	test('keeps rows of pages loaded with "Load more" that the fresh page does not reach', () => {
		const rows = [item(30), item(29), item(5), item(4)];
		const merged = mergeHead(rows, [item(31), item(30), item(29)]);
		expect(merged.map((r) => r.id)).toEqual([31, 30, 29, 5, 4]);
	});

	test('does not undo a live change that arrived after the fresh page was read', () => {
		const patched = item(2, { title: 'Newest', version: 3, updated_at: '2025-01-03T00:00:00Z' });
		const stale = item(2, { title: 'Older', version: 2, updated_at: '2025-01-02T00:00:00Z' });
		expect(mergeHead([patched], [stale])[0].title).toBe('Newest');
	});

	test('returns the same rows when nothing changed', () => {
		const rows = [item(2), item(1)];
		expect(mergeHead(rows, [item(2), item(1)])).toEqual(rows);
	});
});

describe('appendNew: a "Load more" page after rows that moved meanwhile', () => {
	test('adds the next page without repeating a row already shown', () => {
		const rows = [item(9), item(8), item(7)];
		const more = [item(7), item(6), item(5)];
		expect(appendNew(rows, more).map((r) => r.id)).toEqual([9, 8, 7, 6, 5]);
	});
});
