import { describe, expect, test } from 'vitest';
import { insertMention, mentionQueryAt, moveActive, QUERY_MAX } from './mentions';

/** `text` with the caret where `|` is. */
function at(marked: string) {
	const caret = marked.indexOf('|');
	return mentionQueryAt(marked.replace('|', ''), caret);
}

describe('mentionQueryAt: the @handle being typed at the caret', () => {
	test('a handle typed at the start, after a space, a bracket or a new line', () => {
		expect(at('@mi|')).toEqual({ start: 0, end: 3, query: 'mi' });
		expect(at('Thanks @ra|')).toEqual({ start: 7, end: 10, query: 'ra' });
		expect(at('(cc @m|')).toEqual({ start: 4, end: 6, query: 'm' });
		expect(at('Line one\n@rae_r|')).toEqual({ start: 9, end: 15, query: 'rae_r' });
	});

	test('the whole word is replaced when the caret is inside it', () => {
		expect(at('ask @mi|a today')).toEqual({ start: 4, end: 8, query: 'mi' });
	});

	test('a bare @, or the caret elsewhere, is no mention', () => {
		expect(at('@|')).toBeNull();
		expect(at('email me @ |')).toBeNull();
		expect(at('@mia and |')).toBeNull();
		expect(at('|@mia')).toBeNull();
		expect(at('no at sign|')).toBeNull();
	});

	test('e-mail addresses, paths and doubled signs are not mentions', () => {
		expect(at('write to rae@exa|')).toBeNull();
		expect(at('see /docs/@mi|')).toBeNull();
		expect(at('@@mi|')).toBeNull();
		expect(at('é@mi|')).toBeNull();
	});

	test('longer than any handle is not searched', () => {
		expect(at(`@${'a'.repeat(QUERY_MAX)}|`)?.query).toHaveLength(QUERY_MAX);
		expect(at(`@${'a'.repeat(QUERY_MAX + 1)}|`)).toBeNull();
	});

	test('a caret out of range is no mention', () => {
		expect(mentionQueryAt('@mi', 0)).toBeNull();
		expect(mentionQueryAt('@mi', 9)).toBeNull();
	});
});

describe('insertMention: the text once a person is chosen', () => {
	test('inserts the handle and a space, and puts the caret after it', () => {
		const text = 'Thanks @mi';
		const result = insertMention(text, { start: 7, end: 10 }, 'mia');
		expect(result).toEqual({ text: 'Thanks @mia ', caret: 12 });
	});

	test('replaces the whole word and keeps a single space before what follows', () => {
		expect(insertMention('ask @mxa today', { start: 4, end: 8 }, 'mia')).toEqual({
			text: 'ask @mia today',
			caret: 9
		});
		expect(insertMention('@r\nnext', { start: 0, end: 2 }, 'rae')).toEqual({
			text: '@rae \nnext',
			caret: 5
		});
	});
});

describe('moveActive: arrow keys through the suggestions', () => {
	test('starts at the first (down) or the last (up)', () => {
		expect(moveActive(-1, 1, 3)).toBe(0);
		expect(moveActive(-1, -1, 3)).toBe(2);
	});

	test('wraps around both ends', () => {
		expect(moveActive(2, 1, 3)).toBe(0);
		expect(moveActive(0, -1, 3)).toBe(2);
		expect(moveActive(1, 1, 3)).toBe(2);
	});

	test('nothing to move through', () => {
		expect(moveActive(0, 1, 0)).toBe(-1);
	});
});
