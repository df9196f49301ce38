import { describe, expect, test } from 'vitest';
import { flushSync } from 'svelte';
import { readUnread, UnreadCount } from './unread.svelte';

/** The layout's data, as each run of its load replaces it. */
function layoutData(unread: number) {
	let data = $state.raw({ notifications: { unread } });
	return {
		get current() {
			return data;
		},
		reload(next: number) {
			data = { notifications: { unread: next } };
		}
	};
}

describe('UnreadCount: the bell between loads and live counts', () => {
	test('starts from what the load read', () => {
		const layout = { notifications: { unread: 4 } };
		const count = new UnreadCount(() => layout.notifications);
		expect(count.value).toBe(4);
	});

	test('a live count replaces it', () => {
		const layout = { notifications: { unread: 0 } };
		const count = new UnreadCount(() => layout.notifications);
		count.value = 1;
		expect(count.value).toBe(1);
		count.value = -3;
		expect(count.value).toBe(0);
	});

	test('the next load wins over an older live count, even with the same number as before', () => {
		let loaded = { unread: 0 };
		const count = new UnreadCount(() => loaded);
		count.value = 2;
		loaded = { unread: 0 };
		expect(count.value).toBe(0);
		count.value = 5;
		expect(count.value).toBe(5);
	});

	test('is reactive: an effect follows live counts and reloads', () => {
		const data = layoutData(1);
		let count!: InstanceType<typeof UnreadCount>;
		const seen: number[] = [];
		const stop = $effect.root(() => {
			count = new UnreadCount(() => data.current.notifications);
			$effect(() => {
				seen.push(count.value);
			});
		});
		flushSync();
		count.value = 3;
		flushSync();
		data.reload(1);
		flushSync();
		stop();
		expect(seen).toEqual([1, 3, 1]);
	});

	test('while following the channel, a later load does not take an older count back', () => {
		let loaded = { unread: 1 };
		const count = new UnreadCount(() => loaded);
		count.following = true;
		expect(count.value).toBe(1);
		count.value = 2;
		loaded = { unread: 1 };
		expect(count.value).toBe(2);
		// The channel dropped: loads are the newest there is again.
		count.following = false;
		loaded = { unread: 0 };
		expect(count.value).toBe(0);
	});

	test('nobody signed in: nothing unread', () => {
		expect(new UnreadCount(() => null).value).toBe(0);
	});
});

describe('readUnread: the count read again', () => {
	const answering = (status: number, body: unknown) =>
		(async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

	test('the count the server gives', async () => {
		expect(await readUnread(answering(200, { unread: 7 }))).toBe(7);
	});

	test('null when it cannot be read', async () => {
		expect(await readUnread(answering(401, { unread: 0 }))).toBeNull();
		expect(await readUnread(answering(200, { other: 1 }))).toBeNull();
		const offline = (async () => {
			throw new TypeError('Failed to fetch');
		}) as unknown as typeof fetch;
		expect(await readUnread(offline)).toBeNull();
	});
});
