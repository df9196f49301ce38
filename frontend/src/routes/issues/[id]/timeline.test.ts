import { describe, expect, test } from 'vitest';
import type { components } from '$lib/api/schema';
import { anchorOf, timelineOf } from './timeline';
import { isForward, transitionLabel } from './transitions';

type Comment = components['schemas']['CommentOut'];
type Event = components['schemas']['EventOut'];

const ada = { id: 1, full_name: 'Ada Lovelace' };

function comment(id: number, created_at: string): Comment {
	return {
		id,
		issue_id: 1,
		author: ada,
		body: '',
		body_html: '',
		can_edit: false,
		can_delete: false,
		edited: false,
		created_at,
		updated_at: created_at
	};
}

function event(id: number, kind: string, created_at: string): Event {
	return { id, issue_id: 1, kind, actor: ada, data: {}, created_at };
}

describe('timelineOf: comments and changes in one list', () => {
	test('orders by time to the microsecond, which Date alone cannot tell apart', () => {
		const entries = timelineOf(
			[comment(1, '2025-03-01T10:00:00.000900Z')],
			[event(5, 'issue.updated', '2025-03-01T10:00:00.000100Z')]
		);
		expect(entries.map((e) => e.key)).toEqual(['e5', 'c1']);
	});

	test('shows a comment once: its own "comment added" and "edited" events are left out', () => {
		const entries = timelineOf(
			[comment(1, '2025-03-01T10:00:00Z')],
			[
				event(1, 'comment.created', '2025-03-01T10:00:00Z'),
				event(2, 'comment.updated', '2025-03-01T10:05:00Z'),
				event(3, 'comment.deleted', '2025-03-01T10:06:00Z')
			]
		);
		expect(entries.map((e) => e.key)).toEqual(['c1', 'e3']);
	});

	test('links each entry to its element', () => {
		const [c, e] = timelineOf(
			[comment(7, '2025-03-01T10:00:00Z')],
			[event(12, 'issue.updated', '2025-03-01T11:00:00Z')]
		);
		expect(anchorOf(c)).toBe('#comment-7');
		expect(anchorOf(e)).toBe('#event-12');
	});
});

describe('the status buttons', () => {
	test('a step forward names where it goes', () => {
		expect(transitionLabel('OPEN', 'TRIAGED')).toBe('Mark triaged');
		expect(transitionLabel('TRIAGED', 'IN_PROGRESS')).toBe('Start progress');
		expect(transitionLabel('IN_PROGRESS', 'DONE')).toBe('Mark done');
		expect(isForward('OPEN', 'DONE')).toBe(true);
	});

	test('a step back says so, except reopening a finished issue', () => {
		expect(transitionLabel('IN_PROGRESS', 'TRIAGED')).toBe('Back to Triaged');
		expect(transitionLabel('TRIAGED', 'OPEN')).toBe('Back to Open');
		expect(transitionLabel('DONE', 'OPEN')).toBe('Reopen');
		expect(isForward('DONE', 'IN_PROGRESS')).toBe(false);
	});
});
