import { afterEach, describe, expect, test } from 'vitest';
import { flushSync } from 'svelte';
import { Draft } from './draft.svelte';

interface Fields extends Record<string, unknown> {
	title: string;
	severity: string;
}

/** An issue that changes "live", as a reload of the page's data would change it. */
function liveIssue() {
	const issue = $state({ version: 3, values: { title: 'Pay button', severity: 'LOW' } as Fields });
	return {
		issue,
		/** Someone else saved: the next version, with these fields changed. */
		changeElsewhere(fields: Partial<Fields>) {
			issue.version += 1;
			issue.values = { ...issue.values, ...fields };
			flushSync();
		}
	};
}

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function draftOf(issue: { version: number; values: Fields }): Draft<Fields> {
	let draft!: Draft<Fields>;
	stop = $effect.root(() => {
		draft = new Draft(() => ({ version: issue.version, values: issue.values }));
	});
	flushSync();
	return draft;
}

describe('Draft: an edit form while the issue changes underneath it', () => {
	test('starts from the issue as loaded', () => {
		const { issue } = liveIssue();
		const draft = draftOf(issue);
		expect(draft.version).toBe(3);
		expect(draft.values).toEqual({ title: 'Pay button', severity: 'LOW' });
		expect(draft.changedElsewhere).toBe(false);
	});

	test('an untouched form follows every change', () => {
		const { issue, changeElsewhere } = liveIssue();
		const draft = draftOf(issue);
		changeElsewhere({ title: 'Pay button does nothing' });
		expect(draft.version).toBe(4);
		expect(draft.values.title).toBe('Pay button does nothing');
		expect(draft.changedElsewhere).toBe(false);
	});

	test('what the viewer typed survives a change to other fields, and saving it is not refused', () => {
		const { issue, changeElsewhere } = liveIssue();
		const draft = draftOf(issue);
		draft.edited();
		const shown = draft.values;
		// A change elsewhere that leaves these fields as they were: only the version moves on.
		issue.version += 1;
		flushSync();
		expect(draft.version).toBe(4);
		expect(draft.values).toBe(shown);
		expect(draft.changedElsewhere).toBe(false);
		changeElsewhere({});
		expect(draft.version).toBe(5);
	});

	test('a change to the same fields keeps the old version, so saving is refused, and says so', () => {
		const { issue, changeElsewhere } = liveIssue();
		const draft = draftOf(issue);
		draft.edited();
		changeElsewhere({ severity: 'HIGH' });
		expect(draft.changedElsewhere).toBe(true);
		expect(draft.version).toBe(3);
		expect(draft.values.severity).toBe('LOW');
	});

	test('"Show their version" throws the typing away and rebuilds the fields', () => {
		const { issue, changeElsewhere } = liveIssue();
		const draft = draftOf(issue);
		draft.edited();
		changeElsewhere({ severity: 'HIGH' });
		const generation = draft.generation;
		draft.discard();
		expect(draft.values.severity).toBe('HIGH');
		expect(draft.version).toBe(4);
		expect(draft.changedElsewhere).toBe(false);
		expect(draft.dirty).toBe(false);
		expect(draft.generation).toBe(generation + 1);
	});

	test('once saved, the form follows the issue again', () => {
		const { issue, changeElsewhere } = liveIssue();
		const draft = draftOf(issue);
		draft.edited();
		draft.saved();
		changeElsewhere({ title: 'Saved title' });
		expect(draft.values.title).toBe('Saved title');
		expect(draft.version).toBe(4);
	});

	test('fields are not rebuilt for an equal value, which would drop what is typed in them', () => {
		const { issue } = liveIssue();
		const draft = draftOf(issue);
		const shown = draft.values;
		issue.values = { ...issue.values };
		issue.version += 1;
		flushSync();
		expect(draft.values).toBe(shown);
		expect(draft.version).toBe(4);
	});
});
