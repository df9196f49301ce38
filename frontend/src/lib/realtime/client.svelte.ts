// One WebSocket per tab, shared by every component that wants live updates.
//
// The socket signs in with the httpOnly session cookie (the web server proxies /api/ws on the same
// origin, so page JavaScript never sees a token). Every subscriber has a cursor: the last event id
// it has seen, or the stream position its page's data was loaded at (`since`). The channel asks
// the server to replay everything after the lowest cursor, on subscribe and after a reconnect;
// events arrive in id order, so an id at or below a subscriber's cursor is one it already has and
// is not given to it again.
import { untrack } from 'svelte';
import { backoffDelay } from './backoff';
import type { Channel, ConnectionStatus, Me, RealtimeEvent, ServerMessage } from './types';

export type EventHandler = (event: RealtimeEvent) => void;

export interface SubscribeOptions {
	/**
	 * The server could not replay everything missed (a long disconnection): reload what the page
	 * shows. Pages usually pass `invalidateAll` from `$app/navigation`.
	 */
	onResync?: () => void;
	/** The channel was refused or taken away (e.g. `issue_not_found`). */
	onError?: (code: string, message: string) => void;
	/**
	 * The stream position the page's data was loaded at (`position` from the page's load, which
	 * reads GET /api/realtime/position before the data). Every event after it is delivered, the
	 * ones committed while the page was loading included, so nothing falls between the data and
	 * the live updates. Such an event may already be in the data: handlers apply it idempotently.
	 * Without it, events from the moment of subscribing on.
	 */
	since?: number | null;
	/**
	 * The server confirmed the channel's subscription: on subscribe, and again after every
	 * reconnect. For channels whose events are not replayed (`notifications`: id null), the moment
	 * to re-read what they stand for, since a change made while unsubscribed is never sent.
	 */
	onSubscribed?: () => void;
}

interface Listener {
	handler: EventHandler;
	options: SubscribeOptions;
	/** The last event id this listener has seen; null until the server says where "now" is. */
	cursor: number | null;
}

interface ChannelState {
	listeners: Set<Listener>;
	/** The newest event id delivered on the channel (or the server's baseline), null if none. */
	lastId: number | null;
	/** The `since` of the subscribe message sent for the current socket; undefined: not sent. */
	requested: number | null | undefined;
}

/** The server pings every `heartbeat` s; silence for this many intervals means a dead link. */
const SILENCE_INTERVALS = 2.5;
/** Closing the socket right after the last unsubscribe would churn on every navigation. */
const IDLE_CLOSE_MS = 5_000;

export class RealtimeClient {
	status: ConnectionStatus = $state('idle');
	me: Me | null = $state(null);

	#url: () => string;
	#socket: WebSocket | null = null;
	#channels = new Map<Channel, ChannelState>();
	#attempt = 0;
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#idleTimer: ReturnType<typeof setTimeout> | undefined;
	#watchdog: ReturnType<typeof setTimeout> | undefined;
	#heartbeatMs = 20_000;
	#listening = false;
	#flushQueued = false;

	constructor(url: () => string) {
		this.#url = url;
	}

	/** Receive events of `channel` until the returned function is called. */
	subscribe(channel: Channel, handler: EventHandler, options: SubscribeOptions = {}): () => void {
		// Pages subscribe from `$effect`: opening the socket reads `status`, which must not make
		// that effect re-run (unsubscribe, resubscribe) whenever the connection status changes.
		return untrack(() => this.#subscribe(channel, handler, options));
	}

	#subscribe(channel: Channel, handler: EventHandler, options: SubscribeOptions): () => void {
		let state = this.#channels.get(channel);
		if (!state) {
			state = { listeners: new Set(), lastId: null, requested: undefined };
			this.#channels.set(channel, state);
		}
		const since = options.since ?? null;
		// Joining a live channel without a position: from what the channel has reached.
		const listener: Listener = { handler, options, cursor: since ?? state.lastId };
		state.listeners.add(listener);
		if (state.requested !== undefined) {
			// Already subscribed on this socket: events after `since` that it delivered before this
			// listener joined are needed again (or the live-only subscription must become a replay).
			const covered = state.lastId ?? state.requested;
			if (since !== null && (covered === null || covered > since)) state.requested = undefined;
		}
		this.#subscribeSoon();
		clearTimeout(this.#idleTimer);
		this.#ensureOpen();
		const current = state;
		return () => {
			current.listeners.delete(listener);
			if (current.listeners.size === 0 && this.#channels.get(channel) === current) {
				this.#channels.delete(channel);
				if (current.requested !== undefined) this.#send({ type: 'unsubscribe', channel });
				if (this.#channels.size === 0) {
					this.#idleTimer = setTimeout(() => this.#closeIdle(), IDLE_CLOSE_MS);
				}
			}
		};
	}

	/**
	 * Send the pending subscribe messages once the current task is done: components of one page
	 * subscribe to the same channel in the same update (the issue page and its presence avatars),
	 * and one message with the lowest `since` serves them all.
	 */
	#subscribeSoon(): void {
		if (this.#flushQueued) return;
		this.#flushQueued = true;
		queueMicrotask(() => {
			this.#flushQueued = false;
			this.#sendSubscriptions();
		});
	}

	#sendSubscriptions(): void {
		if (this.#socket?.readyState !== WebSocket.OPEN) return; // sent on open
		for (const [channel, state] of this.#channels) {
			if (state.requested !== undefined) continue;
			const since = resumeFrom(state);
			state.requested = since;
			this.#send({ type: 'subscribe', channel, since });
		}
	}

	// -- connection -----------------------------------------------------------------------------

	#ensureOpen(): void {
		if (this.#socket || this.#retryTimer) return;
		this.#listenToBrowser();
		this.#connect();
	}

	#connect(): void {
		this.#retryTimer = undefined;
		if (this.#channels.size === 0) {
			this.status = 'idle';
			return;
		}
		if (typeof navigator !== 'undefined' && navigator.onLine === false) {
			this.status = 'offline';
			return;
		}
		if (this.status === 'idle') this.status = 'connecting';
		const socket = new WebSocket(this.#url());
		this.#socket = socket;
		socket.onopen = () => {
			this.#armWatchdog();
			// Resume every channel from the oldest cursor among its listeners.
			for (const state of this.#channels.values()) state.requested = undefined;
			this.#sendSubscriptions();
		};
		socket.onmessage = (message) => {
			this.#armWatchdog();
			this.#receive(message.data);
		};
		socket.onclose = (close) => {
			if (this.#socket !== socket) return;
			this.#socket = null;
			clearTimeout(this.#watchdog);
			this.#scheduleRetry(close.code);
		};
	}

	#scheduleRetry(code: number): void {
		if (this.#channels.size === 0) {
			this.status = 'idle';
			return;
		}
		// 1008: the session was refused; it may come back after the page refreshes its cookie.
		this.status = code === 1008 ? 'unauthorized' : 'reconnecting';
		const attempt = code === 1008 ? Math.max(this.#attempt, 4) : this.#attempt;
		this.#attempt += 1;
		this.#retryTimer = setTimeout(() => this.#connect(), backoffDelay(attempt));
	}

	/** Reconnect now (the network came back, the tab became visible). */
	#retryNow(): void {
		if (this.#socket || this.#channels.size === 0) return;
		clearTimeout(this.#retryTimer);
		this.#connect();
	}

	#armWatchdog(): void {
		clearTimeout(this.#watchdog);
		this.#watchdog = setTimeout(() => {
			// No message (not even a ping) for too long: the link is dead even if TCP says not.
			this.#socket?.close(4001, 'heartbeat timeout');
			const socket = this.#socket;
			this.#socket = null;
			if (socket) this.#scheduleRetry(4001);
		}, this.#heartbeatMs * SILENCE_INTERVALS);
	}

	#closeIdle(): void {
		if (this.#channels.size > 0) return;
		const socket = this.#socket;
		this.#socket = null;
		clearTimeout(this.#watchdog);
		clearTimeout(this.#retryTimer);
		this.#retryTimer = undefined;
		socket?.close(1000, 'no subscriptions');
		this.status = 'idle';
	}

	#listenToBrowser(): void {
		if (this.#listening || typeof window === 'undefined') return;
		this.#listening = true;
		window.addEventListener('online', () => this.#retryNow());
		window.addEventListener('offline', () => {
			if (!this.#socket && this.#channels.size > 0) this.status = 'offline';
		});
		document.addEventListener('visibilitychange', () => {
			if (document.visibilityState === 'visible') this.#retryNow();
		});
	}

	#send(message: Record<string, unknown>): void {
		if (this.#socket?.readyState === WebSocket.OPEN) {
			this.#socket.send(JSON.stringify(message));
		}
	}

	// -- messages -------------------------------------------------------------------------------

	#receive(raw: unknown): void {
		if (typeof raw !== 'string') return;
		let message: ServerMessage;
		try {
			message = JSON.parse(raw) as ServerMessage;
		} catch {
			return;
		}
		switch (message.type) {
			case 'ready':
				this.me = message.user;
				this.#heartbeatMs = message.heartbeat * 1000;
				this.#attempt = 0;
				this.status = 'open';
				this.#armWatchdog();
				break;
			case 'ping':
				this.#send({ type: 'pong' });
				break;
			case 'subscribed': {
				// Everything after `last_id` reaches the subscription: listeners that had no position
				// start there, and a channel that delivered nothing yet resumes from it.
				const state = this.#channels.get(message.channel);
				if (!state) break;
				state.lastId = Math.max(state.lastId ?? 0, message.last_id);
				for (const listener of [...state.listeners]) {
					if (listener.cursor === null) listener.cursor = message.last_id;
					listener.options.onSubscribed?.();
				}
				break;
			}
			case 'resync': {
				// Nothing is replayed: every listener goes on from the live stream (after the
				// `subscribed` baseline) and reloads what it shows.
				const state = this.#channels.get(message.channel);
				for (const listener of state?.listeners ?? []) {
					listener.cursor = state?.lastId ?? null;
					listener.options.onResync?.();
				}
				break;
			}
			case 'error':
				if (message.channel) {
					const state = this.#channels.get(message.channel);
					for (const listener of state?.listeners ?? []) {
						listener.options.onError?.(message.code, message.message);
					}
				}
				break;
			case 'event':
				this.#deliver(message);
				break;
		}
	}

	#deliver(event: RealtimeEvent): void {
		const state = this.#channels.get(event.channel);
		if (!state) return;
		if (event.id !== null) state.lastId = Math.max(state.lastId ?? 0, event.id);
		for (const listener of [...state.listeners]) {
			if (event.id !== null) {
				if (listener.cursor !== null && event.id <= listener.cursor) continue; // has it
				listener.cursor = event.id;
			}
			try {
				listener.handler(event);
			} catch (error) {
				console.error('[realtime] handler failed', error);
			}
		}
	}
}

/** Where a (re)subscription starts: the oldest cursor, so every listener gets what it lacks. */
function resumeFrom(state: ChannelState): number | null {
	let since: number | null = null;
	for (const { cursor } of state.listeners) {
		if (cursor !== null && (since === null || cursor < since)) since = cursor;
	}
	return since ?? state.lastId;
}
