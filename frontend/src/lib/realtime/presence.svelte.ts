// Who else is looking at an issue right now, kept current by the issue channel's presence events.
import type { RealtimeClient } from './client.svelte';
import type { Person, PresenceData } from './types';

export class Presence {
	/** Everyone viewing the issue, the current user included, sorted by name. */
	viewers: Person[] = $state([]);
	#stop: () => void;

	constructor(client: RealtimeClient, issueId: number) {
		this.#stop = client.subscribe(`issue:${issueId}`, (event) => {
			if (event.kind === 'presence') this.viewers = (event.data as unknown as PresenceData).viewers;
		});
	}

	/** Stop viewing: the others see this user leave (unless another tab still views it). */
	close(): void {
		this.#stop();
		this.viewers = [];
	}
}
