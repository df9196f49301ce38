// The WebSocket protocol of WS /api/ws (docs/realtime.md has the whole story).
import type { Role } from '$lib/api/enums';

/**
 * `issues` (the list), `issue:<id>` (one issue, with presence), `stats` (the dashboard),
 * `notifications` (the signed-in person's own inbox) or `import:<id>` (an import's progress).
 */
export type Channel = 'issues' | 'stats' | 'notifications' | `issue:${number}` | `import:${number}`;

export type EventKind =
	| 'issue.created'
	| 'issue.updated'
	| 'issue.deleted'
	| 'comment.created'
	| 'comment.updated'
	| 'comment.deleted'
	| 'attachment.added'
	| 'attachment.deleted'
	| 'stats.updated'
	| 'notifications.changed'
	| 'import.progress'
	| 'presence';

export interface Person {
	id: number;
	full_name: string;
}

/** One change (id set: from the issue's history) or a transient signal (id null). */
export interface RealtimeEvent {
	type: 'event';
	id: number | null;
	channel: Channel;
	kind: EventKind | (string & {});
	/** For changes: `{ changes: { field: [before, after] } }` and whatever the kind carries. */
	data: Record<string, unknown>;
	issue_id: number | null;
	actor: Person | null;
	created_at: string;
}

export interface PresenceData {
	viewers: Person[];
}

export interface Me extends Person {
	role: Role;
}

export type ServerMessage =
	| RealtimeEvent
	| { type: 'ready'; user: Me; heartbeat: number }
	| { type: 'subscribed'; channel: Channel; last_id: number }
	| { type: 'unsubscribed'; channel: Channel }
	| { type: 'resync'; channel: Channel }
	| { type: 'error'; code: string; message: string; channel?: Channel }
	| { type: 'ping' }
	| { type: 'pong' };

/**
 * - `idle`: nothing subscribed, no socket.
 * - `connecting`: first connection of this page.
 * - `open`: live.
 * - `reconnecting`: lost; retrying with backoff (events missed meanwhile are replayed on return).
 * - `offline`: the browser says there is no network; retries when it comes back.
 * - `unauthorized`: the server refused the session (signed out or expired); retries slowly.
 */
export type ConnectionStatus =
	'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'unauthorized';
