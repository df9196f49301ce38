import { describe, expect, it } from 'vitest';
import { duration } from './format';

describe('duration', () => {
	it('reads as minutes, hours or days', () => {
		expect(duration(null)).toBe('—');
		expect(duration(10)).toBe('1 min');
		expect(duration(45 * 60)).toBe('45 min');
		expect(duration(3.5 * 3600)).toBe('3.5 h');
		expect(duration(30 * 3600)).toBe('30 h');
		expect(duration(12 * 86400)).toBe('12 d');
		expect(duration(2.5 * 86400)).toBe('2.5 d');
	});
});
