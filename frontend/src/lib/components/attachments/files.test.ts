import { describe, expect, test } from 'vitest';
import { problemMessage } from './files';

describe('problemMessage: why an upload or a deletion failed', () => {
	const problem = { status: 413, title: 'Payload Too Large', detail: 'shot.png is over 10 MB' };

	test('says what the API said, from the response text or the parsed body alike', () => {
		expect(problemMessage(413, JSON.stringify(problem))).toBe('shot.png is over 10 MB');
		expect(problemMessage(413, problem)).toBe('shot.png is over 10 MB');
		expect(problemMessage(403, { title: 'Forbidden' })).toBe('Forbidden');
	});

	test('falls back on the status when the body says nothing useful', () => {
		expect(problemMessage(413, '<html>too big</html>')).toBe('The file is too large.');
		expect(problemMessage(415, 'null')).toBe('This type of file is not accepted.');
		expect(problemMessage(0, '')).toMatch(/interrupted/);
		expect(problemMessage(500, undefined)).toBe('The upload failed (HTTP 500).');
	});
});
