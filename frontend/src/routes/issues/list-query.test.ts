import { describe, expect, test } from 'vitest';
import { filtersOf, LIST_PAGE, listQuery } from './list-query';

const params = (query: string) => new URLSearchParams(query);

describe('filtersOf: the filters in the list page URL', () => {
	test('reads every filter', () => {
		expect(
			filtersOf(
				params('q=+checkout+&status=TRIAGED&severity=HIGH&tag=ui&assignee=me&sort=-updated')
			)
		).toEqual({
			q: 'checkout',
			status: 'TRIAGED',
			severity: 'HIGH',
			tag: 'ui',
			assignee: 'me',
			sort: '-updated'
		});
	});

	test('drops values the API does not know instead of sending them', () => {
		expect(filtersOf(params('status=CLOSED&severity=urgent&sort=title&assignee=bob'))).toEqual({
			q: '',
			status: '',
			severity: '',
			tag: '',
			assignee: '',
			sort: ''
		});
	});

	test('accepts a person, "none" and "me" as the assignee', () => {
		expect(filtersOf(params('assignee=42')).assignee).toBe('42');
		expect(filtersOf(params('assignee=none')).assignee).toBe('none');
		expect(filtersOf(params('assignee=12345678901')).assignee).toBe('');
	});

	test('cuts an over-long search and tag', () => {
		expect(filtersOf(params(`q=${'a'.repeat(300)}`)).q).toHaveLength(200);
		expect(filtersOf(params(`tag=${'b'.repeat(50)}`)).tag).toHaveLength(30);
	});
});

describe('listQuery: what GET /api/issues is asked', () => {
	test('sends only the filters that are set, one page at a time', () => {
		expect(listQuery(filtersOf(params('')))).toEqual({
			q: undefined,
			status: undefined,
			severity: undefined,
			tag: undefined,
			assignee_id: undefined,
			sort: undefined,
			cursor: undefined,
			limit: LIST_PAGE
		});
	});

	test('sends the filters and where the next page starts', () => {
		const filters = filtersOf(
			params('q=pay&status=OPEN&severity=LOW&tag=ui&assignee=7&sort=created')
		);
		expect(listQuery(filters, 'abc')).toEqual({
			q: 'pay',
			status: ['OPEN'],
			severity: ['LOW'],
			tag: ['ui'],
			assignee_id: '7',
			sort: 'created',
			cursor: 'abc',
			limit: LIST_PAGE
		});
	});
});
