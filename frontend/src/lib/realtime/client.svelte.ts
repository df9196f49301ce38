// One WebSocket per tab, shared by every component that wants live updates.
//
// The socket signs in with the httpOnly session cookie (the web server proxies /api/ws on the same
// origin, so page JavaScript never sees a token). Each channel remembers the last event id it
// delivered; after a reconnect the client re-subscribes with `since` and the server replays what
// was missed, in order. Events arrive in id order per channel, so an id at or below the last one
// delivered is a duplicate and is dropped.
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
}

interface ChannelState {
	handlers: Set<EventHandler>;
	options: Set<SubscribeOptions>;
	/** Resume cursor: the newest event id delivered on this channel (or the server's baseline). */
	lastId: number | null;
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
			state = { handlers: new Set(), options: new Set(), lastId: null };
			this.#channels.set(channel, state);
			this.#send({ type: 'subscribe', channel, since: null });
		}
		state.handlers.add(handler);
		state.options.add(options);
		clearTimeout(this.#idleTimer);
		this.#ensureOpen();
		const current = state;
		return () => {
			current.handlers.delete(handler);
			current.options.delete(options);
			if (current.handlers.size === 0 && this.#channels.get(channel) === current) {
				this.#channels.delete(channel);
				this.#send({ type: 'unsubscribe', channel });
				if (this.#channels.size === 0) {
					this.#idleTimer = setTimeout(() => this.#closeIdle(), IDLE_CLOSE_MS);
				}
			}
		};
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
			// Resume every channel from the last event it delivered.
			for (const [channel, state] of this.#channels) {
				this.#send({ type: 'subscribe', channel, since: state.lastId });
			}
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
				// Nothing delivered yet: the server's baseline is where a reconnect resumes from.
				const state = this.#channels.get(message.channel);
				if (state && state.lastId === null) state.lastId = message.last_id;
				break;
			}
			case 'resync':
				for (const options of this.#channels.get(message.channel)?.options ?? []) {
					options.onResync?.();
				}
				break;
			case 'error':
				if (message.channel) {
					const state = this.#channels.get(message.channel);
					for (const options of state?.options ?? []) {
						options.onError?.(message.code, message.message);
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
		if (event.id !== null) {
			if (state.lastId !== null && event.id <= state.lastId) return; // seen already
			state.lastId = event.id;
		}
		for (const handler of [...state.handlers]) {
			try {
				handler(event);
			} catch (error) {
				console.error('[realtime] handler failed', error);
			}
		}
	}
}
