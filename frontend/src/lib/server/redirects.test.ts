import { describe, expect, test } from 'vitest';
import { samePath } from './redirects';
import { safeRedirect } from './session';

describe('safeRedirect: where signing in may send the browser back to', () => {
	test.each([
		['/issues', '/issues'],
		['/issues/12?pages=2#comment-7', '/issues/12?pages=2#comment-7'],
		['/dashboard?range=30d', '/dashboard?range=30d'],
		['/', '/']
	])('keeps the same-origin path %s', (target, expected) => {
		expect(safeRedirect(target)).toBe(expected);
	});

	test.each([
		['https://evil.example/issues'],
		['http:evil.example'],
		['//evil.example'],
		['//evil.example/issues'],
		['/\\evil.example'],
		['\\\\evil.example'],
		['/%2F%2Fevil.example'],
		['/%5Cevil.example'],
		['/\t/evil.example'],
		['/\n/evil.example'],
		['javascript:alert(1)'],
		['JavaScript:alert(document.cookie)'],
		['data:text/html,<script>alert(1)</script>'],
		['issues'],
		['']
	])('refuses %j', (target) => {
		expect(safeRedirect(target)).toBeNull();
	});

	test('refuses nothing at all', () => {
		expect(safeRedirect(null)).toBeNull();
		expect(safeRedirect(undefined)).toBeNull();
	});

	test.each([['/auth'], ['/auth/signin'], ['/auth/signup?redirectTo=/issues'], ['/auth/callback']])(
		'refuses the sign-in pages themselves (%s), which would only lead back there',
		(target) => {
			expect(safeRedirect(target)).toBeNull();
		}
	);

	test('keeps pages that merely start like the sign-in pages', () => {
		expect(safeRedirect('/authors')).toBe('/authors');
	});
});

describe('samePath', () => {
	test('normalises the path it keeps, so what is checked is what the browser gets', () => {
		expect(samePath('/issues/../admin/users')).toBe('/admin/users');
		expect(samePath('/issues?q=a b')).toBe('/issues?q=a%20b');
	});

	test('refuses a path that only decodes to another origin', () => {
		expect(samePath('/%2f%2fevil.example')).toBeNull();
		expect(samePath('/%09/evil.example')).toBeNull();
	});

	test('refuses a malformed escape rather than guessing', () => {
		expect(samePath('/issues/%E0%A4%A')).toBeNull();
	});
});
