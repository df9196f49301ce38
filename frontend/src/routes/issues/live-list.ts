// Keeping the issue list current from live events without reloading it (which would drop the
// pages fetched with "Load more" and move rows under the reader's pointer).
import type { components } from '$lib/api/schema';
import type { RealtimeEvent } from '$lib/realtime';
import type { ListFilters } from './list-query';

type Item = components['schemas']['IssueListItem'];
type Person = components['schemas']['UserRef'];

type Changes = Record<string, [unknown, unknown] | undefined>;

function after<T>(changes: Changes, field: string, fallback: T): T {
	const pair = changes[field];
	return pair ? (pair[1] as T) : fallback;
}

/** The row as it is after `event` (an `issue.updated`, or a comment added or removed). */
export function applyEvent(item: Item, event: RealtimeEvent): Item {
	const at = event.created_at;
	switch (event.kind) {
		case 'issue.updated': {
			const changes = (event.data.changes ?? {}) as Changes;
			const status = after(changes, 'status', item.status);
			return {
				...item,
				title: after(changes, 'title', item.title),
				severity: after(changes, 'severity', item.severity),
				status,
				resolved_at: changes.status ? (status === 'DONE' ? at : null) : item.resolved_at,
				assignee: changes.assignee
					? (after<Person | null>(changes, 'assignee', null) ?? null)
					: item.assignee,
				tags: after(changes, 'tags', item.tags),
				version: item.version + 1,
				updated_at: at
			};
		}
		case 'comment.created':
			return { ...item, comment_count: item.comment_count + 1, updated_at: at };
		case 'comment.deleted':
			return { ...item, comment_count: Math.max(0, item.comment_count - 1) };
		default:
			return item;
	}
}

/** What a live event does to the list: new rows to show, and whether to read the first page again. */
export interface LiveChange {
	rows?: Item[];
	/** The event may add a row (a new issue, or one that now matches the filters). */
	readHead?: boolean;
}

/**
 * The list's answer to a live event. `through` is the last change the rows shown may already
 * contain; `laterPage` is set on a page after the first (reached through the no-JS link).
 */
export function liveChange(
	rows: Item[],
	event: RealtimeEvent,
	{ through, laterPage }: { through: number | null; laterPage: boolean }
): LiveChange {
	const id = event.issue_id;
	if (id === null) return {};
	if (event.kind === 'issue.deleted') {
		return rows.some((r) => r.id === id) ? { rows: rows.filter((r) => r.id !== id) } : {};
	}
	if (event.kind === 'issue.created') return { readHead: true };
	// Committed while the rows shown were being read (the subscription replays from before
	// them): they may have it already, so they are read again rather than patched twice.
	if (event.id !== null && through !== null && event.id <= through && !laterPage) {
		return { readHead: true };
	}
	const index = rows.findIndex((r) => r.id === id);
	if (index === -1) return event.kind === 'issue.updated' ? { readHead: true } : {};
	const patched = applyEvent(rows[index], event);
	return patched === rows[index] ? {} : { rows: rows.map((r, i) => (i === index ? patched : r)) };
}

/**
 * Whether the row still matches the list's filters, as far as they can be checked here (the text
 * search cannot). A row that stops matching stays where it is, marked, until the next load.
 */
export function matchesFilters(item: Item, filters: ListFilters, meId: number | null): boolean {
	if (filters.status && item.status !== filters.status) return false;
	if (filters.severity && item.severity !== filters.severity) return false;
	if (filters.tag && !item.tags.some((t) => t.toLowerCase() === filters.tag.toLowerCase())) {
		return false;
	}
	const a = filters.assignee;
	if (a === 'none' && item.assignee) return false;
	if (a === 'me' && meId !== null && item.assignee?.id !== meId) return false;
	if (/^\d+$/.test(a) && item.assignee?.id !== Number(a)) return false;
	return true;
}

/**
 * Fold a freshly fetched first page into the rows shown: rows it has are replaced by its (newer)
 * copy in place; rows the list lacks (a new issue, one that now matches the filters) are inserted
 * after the row that precedes them in the fresh page, or at the top.
 */
export function mergeHead(rows: Item[], head: Item[]): Item[] {
	const fresh = new Map(head.map((h) => [h.id, h]));
	const shown = new Set(rows.map((r) => r.id));
	const merged = rows.map((r) => {
		const h = fresh.get(r.id);
		return h && isNewer(h, r) ? h : r;
	});
	let anchor: number | null = null; // id of the last head row already in the list
	const inserts = new Map<number | null, Item[]>();
	for (const h of head) {
		if (shown.has(h.id)) {
			anchor = h.id;
			continue;
		}
		const list = inserts.get(anchor) ?? [];
		list.push(h);
		inserts.set(anchor, list);
	}
	if (inserts.size === 0) return merged;
	const out = [...(inserts.get(null) ?? [])];
	for (const r of merged) {
		out.push(r, ...(inserts.get(r.id) ?? []));
	}
	return out;
}

/** A live event may have patched the row after the fresh page was read: keep the later one. */
function isNewer(a: Item, b: Item): boolean {
	if (a.version !== b.version) return a.version > b.version;
	return Date.parse(a.updated_at) >= Date.parse(b.updated_at);
}

/** Rows with the ones already shown left out (a key may appear once in a keyed list). */
export function appendNew(rows: Item[], more: Item[]): Item[] {
	const shown = new Set(rows.map((r) => r.id));
	return [...rows, ...more.filter((m) => !shown.has(m.id))];
}
