import { describe, expect, test } from 'vitest';
import { formatOf, PREVIEW_BYTES, PreviewError, previewOf } from './preview';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('previewOf', () => {
	test('a CSV file: its header and first five rows, one cell per column', () => {
		const rows = Array.from({ length: 8 }, (_, i) => `Issue ${i},HIGH`);
		const preview = previewOf(bytes(['Summary,Priority,Notes', ...rows].join('\r\n')), 'csv');
		expect(preview.columns).toEqual(['Summary', 'Priority', 'Notes']);
		expect(preview.rows).toHaveLength(5);
		expect(preview.rows[0]).toEqual(['Issue 0', 'HIGH', '']);
	});

	test('reads only the start of a large CSV file', () => {
		const long = 'x'.repeat(PREVIEW_BYTES);
		const preview = previewOf(bytes(`title\nfirst\n"${long}"\nlast\n`), 'csv');
		expect(preview.rows).toHaveLength(1);
		expect(preview.rows[0]).toEqual(['first']);
	});

	test('shortens long cells', () => {
		const preview = previewOf(bytes(`title\n${'y'.repeat(1000)}\n`), 'csv');
		expect(preview.rows[0][0].length).toBeLessThan(200);
		expect(preview.rows[0][0].endsWith('…')).toBe(true);
	});

	test('a JSON file: every key in first-seen order, arrays as lists', () => {
		const items = [
			{ title: 'One', tags: ['a', 'b'] },
			{ title: 'Two', severity: 'LOW', extra: { nested: true } }
		];
		expect(previewOf(bytes(JSON.stringify(items)), 'json')).toEqual({
			columns: ['title', 'tags', 'severity', 'extra'],
			rows: [
				['One', 'a, b', '', ''],
				['Two', '', 'LOW', '{"nested":true}']
			]
		});
	});

	test.each([
		['', 'csv', 'empty'],
		['{not json', 'json', 'not valid JSON'],
		['{"title": "x"}', 'json', 'array of objects'],
		['[]', 'json', 'no issues']
	] as const)('refuses %j as %s', (text, format, message) => {
		expect(() => previewOf(bytes(text), format)).toThrowError(PreviewError);
		expect(() => previewOf(bytes(text), format)).toThrowError(message);
	});

	test('formatOf: JSON by name or type, CSV otherwise', () => {
		expect(formatOf('issues.JSON')).toBe('json');
		expect(formatOf('export', 'application/json')).toBe('json');
		expect(formatOf('issues.csv', 'text/csv')).toBe('csv');
		expect(formatOf('issues.txt')).toBe('csv');
	});
});
