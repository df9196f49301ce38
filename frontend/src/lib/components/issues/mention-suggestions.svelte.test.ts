import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
	MentionSuggestions,
	SEARCH_DELAY_MS,
	type Mentionable
} from './mention-suggestions.svelte';

const MIA = { id: 2, username: 'mia', full_name: 'Mia Maintainer' };
const MAX = { id: 3, username: 'max', full_name: 'Max Mustermann' };
const RAE = { id: 5, username: 'rae', full_name: 'Rae Reporter' };
const PEOPLE = [MIA, MAX, RAE];

/** A server that answers like the API (handle or a word of the name starts with the query). */
function server() {
	const asked: string[] = [];
	const source = async (q: string): Promise<Mentionable[]> => {
		asked.push(q);
		return PEOPLE.filter(
			(p) =>
				p.username.startsWith(q) ||
				p.full_name
					.toLowerCase()
					.split(' ')
					.some((w) => w.startsWith(q))
		);
	};
	return { asked, source };
}

/** Type `text` (the caret at its end) and let the server answer. */
async function type(s: MentionSuggestions, text: string) {
	s.update(text, text.length);
	await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS + 1);
}

beforeEach(() => {
	vi.useFakeTimers();
});
afterEach(() => {
	vi.useRealTimers();
});

describe('MentionSuggestions', () => {
	test('asks who matches once typing pauses, and opens with the first one active', async () => {
		const { asked, source } = server();
		const s = new MentionSuggestions('people', source);
		await type(s, 'Thanks @m');
		expect(asked).toEqual(['m']);
		expect(s.open).toBe(true);
		expect(s.people.map((p) => p.username)).toEqual(['mia', 'max']);
		expect(s.activeId).toBe('people-0');
	});

	test('arrow keys move through the options and wrap', async () => {
		const s = new MentionSuggestions('people', server().source);
		await type(s, '@m');
		s.move(1);
		expect(s.activeId).toBe('people-1');
		s.move(1);
		expect(s.activeId).toBe('people-0');
		s.move(-1);
		expect(s.activeId).toBe('people-1');
	});

	test('choosing inserts the handle and a space, and closes', async () => {
		const s = new MentionSuggestions('people', server().source);
		await type(s, 'cc @m');
		s.move(1);
		expect(s.choose('cc @m')).toEqual({ text: 'cc @max ', caret: 8 });
		expect(s.open).toBe(false);
		expect(s.choose('cc @max ')).toBeNull();
	});

	test('narrowing keeps the people who still match while the server is asked', async () => {
		const { asked, source } = server();
		const s = new MentionSuggestions('people', source);
		await type(s, '@m');
		s.move(1); // Max
		s.update('@ma', 3);
		expect(s.people.map((p) => p.username)).toEqual(['mia', 'max']);
		s.update('@max', 4);
		expect(s.people.map((p) => p.username)).toEqual(['max']);
		expect(s.activeId).toBe('people-0');
		await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS + 1);
		expect(asked).toEqual(['m', 'max']);
	});

	test('a query asked before is answered from memory', async () => {
		const { asked, source } = server();
		const s = new MentionSuggestions('people', source);
		await type(s, '@r');
		s.close();
		await type(s, 'again @R');
		expect(asked).toEqual(['r']);
		expect(s.people).toEqual([RAE]);
	});

	test('Escape closes it for this mention; the next @ suggests again', async () => {
		const s = new MentionSuggestions('people', server().source);
		await type(s, '@m');
		s.dismiss();
		expect(s.open).toBe(false);
		await type(s, '@mi');
		expect(s.open).toBe(false);
		await type(s, '@mi @r');
		expect(s.open).toBe(true);
	});

	test('the caret leaving the mention closes it, and a late answer does not reopen it', async () => {
		let answer: (people: Mentionable[]) => void = () => {};
		const s = new MentionSuggestions('people', () => new Promise((r) => (answer = r)));
		s.update('@m', 2);
		await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS + 1);
		s.update('@m and more', 11);
		answer([MIA]);
		await vi.advanceTimersByTimeAsync(0);
		expect(s.open).toBe(false);
		expect(s.people).toEqual([]);
	});

	test('no answer (offline, signed out): no suggestions', async () => {
		const s = new MentionSuggestions('people', () => Promise.reject(new Error('401')));
		await type(s, '@m');
		expect(s.open).toBe(false);
	});
});
