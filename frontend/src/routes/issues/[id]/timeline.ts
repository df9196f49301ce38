// Comments and history in one chronological timeline. Comment events are represented by the
// comments themselves (a deleted comment leaves its event behind).
import type { components } from '$lib/api/schema';
import { micros } from '$lib/components/issues/time';

type Comment = components['schemas']['CommentOut'];
type Event = components['schemas']['EventOut'];

export type Entry =
	| { type: 'comment'; at: string; key: string; comment: Comment }
	| { type: 'event'; at: string; key: string; event: Event };

/** Oldest first; entries of the same microsecond keep one fixed order. */
export function timelineOf(comments: Comment[], events: Event[]): Entry[] {
	return [
		...comments.map((comment): Entry => ({
			type: 'comment',
			at: comment.created_at,
			key: `c${comment.id}`,
			comment
		})),
		...events
			.filter((e) => e.kind !== 'comment.created' && e.kind !== 'comment.updated')
			.map((event): Entry => ({
				type: 'event',
				at: event.created_at,
				key: `e${event.id}`,
				event
			}))
	].sort((a, b) => micros(a.at) - micros(b.at) || a.key.localeCompare(b.key));
}

/** The fragment of an entry's element in the page: `#comment-7`, `#event-12`. */
export function anchorOf(entry: Entry): string {
	return entry.type === 'comment' ? `#comment-${entry.comment.id}` : `#event-${entry.event.id}`;
}
