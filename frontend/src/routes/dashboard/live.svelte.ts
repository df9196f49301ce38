// Live refresh for the dashboard: one WebSocket to /api/ws (authenticated by the session cookie),
// subscribed to the `stats` channel. Any aggregation (`stats.updated`) or issue change makes the
// page re-fetch its numbers. When the socket cannot be used the page still works: it reconnects
// with backoff and, meanwhile, re-fetches on a slow timer while the tab is visible.

export type LiveState = 'connecting' | 'live' | 'offline';

const MAX_BACKOFF_MS = 30_000;
const FALLBACK_POLL_MS = 60_000;
const DEBOUNCE_MS = 400;

interface ServerMessage {
	type?: string;
	channel?: string;
	kind?: string;
}

function isRefreshWorthy(message: ServerMessage): boolean {
	if (message.type !== 'event') return false;
	return (
		message.kind === 'stats.updated' ||
		message.channel === 'issues' ||
		(typeof message.kind === 'string' && message.kind.startsWith('issue.'))
	);
}

export class LiveStats {
	state: LiveState = $state('connecting');
	#socket: WebSocket | null = null;
	#attempt = 0;
	#closed = false;
	#retry: ReturnType<typeof setTimeout> | undefined;
	#debounce: ReturnType<typeof setTimeout> | undefined;
	#poll: ReturnType<typeof setInterval> | undefined;
	#refresh: () => void;

	constructor(refresh: () => void) {
		this.#refresh = refresh;
		this.#connect();
	}

	#connect(): void {
		if (this.#closed) return;
		if (typeof WebSocket === 'undefined') {
			this.#offline();
			return;
		}
		this.state = this.#attempt === 0 ? 'connecting' : this.state;
		const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
		let socket: WebSocket;
		try {
			socket = new WebSocket(`${scheme}://${location.host}/api/ws`);
		} catch {
			this.#scheduleReconnect();
			return;
		}
		this.#socket = socket;
		socket.addEventListener('open', () => {
			this.#attempt = 0;
			this.state = 'live';
			this.#stopPolling();
			socket.send(JSON.stringify({ type: 'subscribe', channel: 'stats' }));
			// Numbers may have moved while we were disconnected.
			this.#refresh();
		});
		socket.addEventListener('message', (event) => {
			let message: ServerMessage;
			try {
				message = JSON.parse(String(event.data)) as ServerMessage;
			} catch {
				return;
			}
			if (isRefreshWorthy(message)) this.#refreshSoon();
		});
		socket.addEventListener('close', () => {
			if (this.#socket === socket) this.#socket = null;
			this.#scheduleReconnect();
		});
	}

	#refreshSoon(): void {
		// A burst of changes (a bulk triage) becomes one re-fetch.
		clearTimeout(this.#debounce);
		this.#debounce = setTimeout(() => this.#refresh(), DEBOUNCE_MS);
	}

	#scheduleReconnect(): void {
		if (this.#closed) return;
		this.#offline();
		const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.#attempt) * (0.8 + Math.random() * 0.4);
		this.#attempt += 1;
		clearTimeout(this.#retry);
		this.#retry = setTimeout(() => this.#connect(), delay);
	}

	#offline(): void {
		this.state = 'offline';
		if (this.#poll === undefined) {
			this.#poll = setInterval(() => {
				if (document.visibilityState === 'visible') this.#refresh();
			}, FALLBACK_POLL_MS);
		}
	}

	#stopPolling(): void {
		clearInterval(this.#poll);
		this.#poll = undefined;
	}

	close(): void {
		this.#closed = true;
		clearTimeout(this.#retry);
		clearTimeout(this.#debounce);
		this.#stopPolling();
		this.#socket?.close();
		this.#socket = null;
	}
}
