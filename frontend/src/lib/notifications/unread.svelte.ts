// The unread count the bell shows: the one the layout's load read (on the server, so the first
// paint has it, also without JavaScript), then the counts the `notifications` channel sends.
//
// While the channel is followed (subscribed, and the count read again since), it says every
// change, and a load is not needed: it may even be older than the last live count, when a page
// reloads its data on the same change that moved the count (the load read the count before the
// worker wrote the notification, and lands after the live count). Without the channel (the socket
// is down) each load's count is the newest there is.

/**
 * The count now (GET /inbox/unread), or null when it cannot be read. Read with a plain request,
 * not by invalidating the layout's load: an invalidation takes over a navigation already under
 * way, so a link clicked at that moment would not be followed.
 */
export async function readUnread(fetchImpl: typeof fetch = fetch): Promise<number | null> {
	try {
		const response = await fetchImpl('/inbox/unread', { headers: { accept: 'application/json' } });
		if (!response.ok) return null;
		const body: unknown = await response.json();
		const unread = (body as { unread?: unknown } | null)?.unread;
		return typeof unread === 'number' ? unread : null;
	} catch {
		return null;
	}
}

/** The layout's count: a new object each time the load runs. */
export interface LoadedUnread {
	unread: number;
}

export class UnreadCount {
	#loaded: () => LoadedUnread | null;
	// Raw: the load's object is compared by identity, so it must not be wrapped in a proxy.
	#live = $state.raw<{ value: number; over: LoadedUnread | null } | null>(null);
	/** The channel is subscribed: its counts win over any load. */
	following = $state(false);

	constructor(loaded: () => LoadedUnread | null) {
		this.#loaded = loaded;
	}

	/** The newest count: the live one while following, or unless the load has run since. */
	get value(): number {
		const loaded = this.#loaded();
		const live = this.#live;
		if (live && (this.following || live.over === loaded)) return live.value;
		return loaded?.unread ?? 0;
	}

	/** A live count (from the socket, or read again): it stands while following, and otherwise
	 * until the load runs again. */
	set value(unread: number) {
		this.#live = { value: Math.max(0, unread), over: this.#loaded() };
	}
}
