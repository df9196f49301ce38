import { describe, expect, test } from 'vitest';
import { exportHref, exportQuery, filtersOf, LIST_PAGE, listQuery } from './list-query';

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

describe('the export of the list', () => {
	test('exportHref keeps the filters and search and drops paging and sort', () => {
		expect(exportHref(params('q=crash&tag=ui&sort=-updated&cursor=abc&limit=5'), 'csv')).toBe(
			'/issues/export?format=csv&q=crash&tag=ui'
		);
		expect(exportHref(params('format=csv'), 'json')).toBe('/issues/export?format=json');
	});

	test('exportQuery asks the API for exactly the issues the list shows', () => {
		const filters = filtersOf(
			params('q=crash&status=OPEN&severity=HIGH&tag=ui&assignee=me&sort=created')
		);
		expect(Object.fromEntries(exportQuery(filters, 'json'))).toEqual({
			format: 'json',
			q: 'crash',
			status: 'OPEN',
			severity: 'HIGH',
			tag: 'ui',
			assignee_id: 'me'
		});
		expect(exportQuery(filtersOf(params('')), 'xlsx').toString()).toBe('format=csv');
	});
});
