import { describe, expect, test } from 'vitest';
import { badgeText, bellLabel } from './badge';

describe('badgeText', () => {
	test('no badge at 0 (or anything that is not a count)', () => {
		expect(badgeText(0)).toBe('');
		expect(badgeText(-2)).toBe('');
		expect(badgeText(Number.NaN)).toBe('');
	});

	test('the count up to 99, then 99+', () => {
		expect(badgeText(1)).toBe('1');
		expect(badgeText(99)).toBe('99');
		expect(badgeText(100)).toBe('99+');
		expect(badgeText(12345)).toBe('99+');
	});
});

describe('bellLabel', () => {
	test('says how many are unread, and nothing more when none are', () => {
		expect(bellLabel(0)).toBe('Notifications');
		expect(bellLabel(3)).toBe('Notifications, 3 unread');
		expect(bellLabel(250)).toBe('Notifications, 99+ unread');
	});
});
