import { describe, expect, test } from 'vitest';
import { inboxAction, inboxHref, inboxQueryOf } from './inbox-query';

const query = (qs: string) => inboxQueryOf(new URLSearchParams(qs));

describe('inboxQueryOf', () => {
	test('all by default, unread when asked', () => {
		expect(query('')).toEqual({ filter: 'all', cursor: null });
		expect(query('filter=unread')).toEqual({ filter: 'unread', cursor: null });
		expect(query('filter=everything')).toEqual({ filter: 'all', cursor: null });
	});

	test('keeps a cursor the API could have handed out, and nothing else', () => {
		expect(query('cursor=41').cursor).toBe('41');
		expect(query('cursor=0').cursor).toBeNull();
		expect(query('cursor=abc').cursor).toBeNull();
		expect(query('cursor=').cursor).toBeNull();
	});
});

describe('inboxHref and inboxAction', () => {
	test('links carry only what differs from the default', () => {
		expect(inboxHref({ filter: 'all' })).toBe('/inbox');
		expect(inboxHref({ filter: 'unread' })).toBe('/inbox?filter=unread');
		expect(inboxHref({ filter: 'unread', cursor: '12' })).toBe('/inbox?filter=unread&cursor=12');
	});

	test('actions keep the list they were posted from', () => {
		expect(inboxAction('readAll', { filter: 'all' })).toBe('/inbox?/readAll');
		expect(inboxAction('open', { filter: 'unread', cursor: '9' })).toBe(
			'/inbox?filter=unread&cursor=9&/open'
		);
	});

	test('round trip', () => {
		const href = inboxHref({ filter: 'unread', cursor: '7' });
		expect(inboxQueryOf(new URL(href, 'http://x').searchParams)).toEqual({
			filter: 'unread',
			cursor: '7'
		});
	});
});
