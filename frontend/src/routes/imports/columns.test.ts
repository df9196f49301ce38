import { describe, expect, test } from 'vitest';
import { duplicateFields, guessMapping, mappingOf, namedField, normalizeHeader } from './columns';

describe('guessMapping: the field each column holds', () => {
	test('takes field names in any case, with spaces or dashes for underscores', () => {
		expect(
			guessMapping(['Title', 'DESCRIPTION', 'Reporter Email', 'assignee-email', ' created_at '])
		).toEqual(['title', 'description', 'reporter_email', 'assignee_email', 'created_at']);
	});

	test('knows the usual other names', () => {
		expect(guessMapping(['Summary', 'Priority', 'Labels', 'Id', 'Assigned to', 'State'])).toEqual([
			'title',
			'severity',
			'tags',
			'external_id',
			'assignee_email',
			'status'
		]);
	});

	test('ignores columns it cannot place', () => {
		expect(guessMapping(['Summary', 'Browser', 'Notes', ''])).toEqual(['title', null, null, null]);
	});

	test('a field name wins over a synonym, and each field goes to one column', () => {
		expect(guessMapping(['Summary', 'Title', 'Labels', 'Tags'])).toEqual([
			null,
			'title',
			null,
			'tags'
		]);
		expect(guessMapping(['Priority', 'Urgency'])).toEqual(['severity', null]);
	});

	test("reads this tracker's own export back, its id as the external id", () => {
		expect(
			guessMapping([
				'id',
				'title',
				'description',
				'status',
				'severity',
				'tags',
				'reporter_email',
				'reporter_name',
				'assignee_email',
				'assignee_name',
				'created_at',
				'updated_at',
				'resolved_at'
			])
		).toEqual([
			'external_id',
			'title',
			'description',
			'status',
			'severity',
			'tags',
			'reporter_email',
			null,
			'assignee_email',
			null,
			'created_at',
			null,
			null
		]);
	});
});

describe('mappingOf and the rules around it', () => {
	test('maps each chosen column by its trimmed name and leaves ignored ones out', () => {
		expect(mappingOf([' Summary ', 'Notes', 'Priority'], ['title', null, 'severity'])).toEqual({
			Summary: 'title',
			Priority: 'severity'
		});
	});

	test('names the fields chosen twice', () => {
		expect(duplicateFields(['title', 'tags', 'title', null, null])).toEqual(['title']);
		expect(duplicateFields(['title', null])).toEqual([]);
	});

	test('namedField follows the API: any case, spaces for underscores, nothing else', () => {
		expect(namedField('Reporter Email')).toBe('reporter_email');
		expect(namedField(' TITLE ')).toBe('title');
		expect(namedField('Summary')).toBeNull();
		expect(namedField('created-at')).toBeNull();
		expect(normalizeHeader('  Created - At ')).toBe('created_at');
	});
});
