// Live updates for pages and components. One WebSocket per tab, opened on the first subscription
// and closed a few seconds after the last one ends. See docs/realtime.md.
//
//   $effect(() => subscribe('issues', (event) => { ... }));          // the list
//   $effect(() => subscribe(`issue:${issue.id}`, (event) => { ... }));  // one issue
//   const viewing = presence(issue.id);  // viewing.viewers; viewing.close() on destroy
//   connection.status                    // 'open' | 'reconnecting' | ...
import { browser } from '$app/environment';
import { RealtimeClient, type EventHandler, type SubscribeOptions } from './client.svelte';
import { Presence } from './presence.svelte';
import type { Channel } from './types';

export type * from './types';
export type { EventHandler, SubscribeOptions } from './client.svelte';
export { Presence } from './presence.svelte';
export { RealtimeClient } from './client.svelte';
export { backoffDelay } from './backoff';

function socketUrl(): string {
	const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
	return `${scheme}://${location.host}/api/ws`;
}

/** The tab's one client: status (`connection.status`) and the signed-in user (`connection.me`). */
export const connection = new RealtimeClient(socketUrl);

/**
 * Call `handler` for every event on `channel` until the returned function is called; returns it so
 * `$effect(() => subscribe(...))` cleans up by itself. A no-op during server rendering.
 */
export function subscribe(
	channel: Channel,
	handler: EventHandler,
	options?: SubscribeOptions
): () => void {
	if (!browser) return () => {};
	return connection.subscribe(channel, handler, options);
}

/** Join an issue's viewers; `.viewers` updates live. Call `.close()` when leaving the page. */
export function presence(issueId: number): Presence {
	return new Presence(browser ? connection : inertClient, issueId);
}

const inertClient = { subscribe: () => () => {} } as unknown as RealtimeClient;
