import { describe, expect, test } from 'vitest';
import { guessDelimiter, parseCsv } from './csv';

describe('parseCsv: RFC 4180 records', () => {
	test('reads a header and rows with CRLF line ends', () => {
		expect(parseCsv('title,severity\r\nLogin fails,HIGH\r\nSlow page,LOW\r\n')).toEqual([
			['title', 'severity'],
			['Login fails', 'HIGH'],
			['Slow page', 'LOW']
		]);
	});

	test('takes LF and lone CR line ends, and a last line without one', () => {
		expect(parseCsv('a,b\nc,d\re,f')).toEqual([
			['a', 'b'],
			['c', 'd'],
			['e', 'f']
		]);
	});

	test('keeps delimiters, line breaks and doubled quotes inside quoted cells', () => {
		expect(parseCsv('title,description\n"Crash, again","Line one\r\nsaid ""no"""\n')).toEqual([
			['title', 'description'],
			['Crash, again', 'Line one\r\nsaid "no"']
		]);
	});

	test('keeps empty cells, quoted or not', () => {
		expect(parseCsv('a,b,c\n,"",x\n')).toEqual([
			['a', 'b', 'c'],
			['', '', 'x']
		]);
	});

	test('skips blank lines and takes a byte-order mark off', () => {
		expect(parseCsv('\uFEFFtitle\n\nOne\r\n\r\nTwo\n')).toEqual([['title'], ['One'], ['Two']]);
	});

	test('keeps a quote inside an unquoted cell as it is', () => {
		expect(parseCsv('title\nThe 5" screen\n')).toEqual([['title'], ['The 5" screen']]);
	});

	test('stops after maxRecords', () => {
		const text = ['h', ...Array.from({ length: 100 }, (_, i) => `row ${i}`)].join('\n');
		expect(parseCsv(text, { maxRecords: 3 })).toEqual([['h'], ['row 0'], ['row 1']]);
	});

	test('leaves out a last record cut short when the text is only the start of a file', () => {
		expect(parseCsv('title\nOne\nTw', { truncated: true })).toEqual([['title'], ['One']]);
		expect(parseCsv('title\nOne\n"Two\nlines', { truncated: true })).toEqual([['title'], ['One']]);
	});

	test('uses the delimiter given or the one the header has', () => {
		expect(parseCsv('title;tags\nOne;"a;b"\n')).toEqual([
			['title', 'tags'],
			['One', 'a;b']
		]);
		expect(parseCsv('a|b\n1|2', { delimiter: '|' })).toEqual([
			['a', 'b'],
			['1', '2']
		]);
	});
});

describe('guessDelimiter: from the header line, as the API guesses', () => {
	test.each([
		['title,severity,tags\n', ','],
		['title;severity;tags\nx,y;z;w', ';'],
		['title\tseverity\n', '\t'],
		['title|severity\n', '|'],
		['title\n', ','],
		['"a;b",c,d\n', ',']
	])('%j → %j', (text, delimiter) => {
		expect(guessDelimiter(text)).toBe(delimiter);
	});
});
