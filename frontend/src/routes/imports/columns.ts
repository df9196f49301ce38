// Which field of an issue each column of an import file fills: guessed from the header, changed
// by the person importing, and sent to the API as `mapping` (docs/imports.md).

/** The fields an import fills, as the API names them. */
export const FIELDS = [
	'title',
	'description',
	'severity',
	'status',
	'tags',
	'reporter_email',
	'assignee_email',
	'created_at',
	'external_id'
] as const;
export type Field = (typeof FIELDS)[number];

export const FIELD_LABELS: Record<Field, string> = {
	title: 'Title',
	description: 'Description',
	severity: 'Severity',
	status: 'Status',
	tags: 'Tags',
	reporter_email: 'Reporter e-mail',
	assignee_email: 'Assignee e-mail',
	created_at: 'Created at',
	external_id: 'External id'
};

export function isField(value: unknown): value is Field {
	return typeof value === 'string' && (FIELDS as readonly string[]).includes(value);
}

/** A header as the API compares it: trimmed, any case, spaces (here also `-`) for `_`. */
export function normalizeHeader(header: string): string {
	return header
		.trim()
		.toLowerCase()
		.replace(/[\s-]+/g, '_');
}

/**
 * The field a column is always read as, whatever the mapping leaves out: the API takes a header
 * that names a field (any case, spaces for `_`) as that field, so such a column can be mapped to
 * another field but not ignored.
 */
export function namedField(header: string): Field | null {
	const name = header.trim().toLowerCase().replaceAll(' ', '_');
	return isField(name) ? name : null;
}

/** Other names spreadsheets and trackers give the fields (compared normalized). */
const SYNONYMS: Record<string, Field> = {
	summary: 'title',
	subject: 'title',
	headline: 'title',
	name: 'title',
	issue: 'title',
	body: 'description',
	details: 'description',
	detail: 'description',
	text: 'description',
	content: 'description',
	message: 'description',
	priority: 'severity',
	urgency: 'severity',
	impact: 'severity',
	state: 'status',
	stage: 'status',
	labels: 'tags',
	label: 'tags',
	tag: 'tags',
	keywords: 'tags',
	categories: 'tags',
	reporter: 'reporter_email',
	reported_by: 'reporter_email',
	author: 'reporter_email',
	creator: 'reporter_email',
	submitter: 'reporter_email',
	email: 'reporter_email',
	e_mail: 'reporter_email',
	assignee: 'assignee_email',
	assigned_to: 'assignee_email',
	owner: 'assignee_email',
	created: 'created_at',
	created_on: 'created_at',
	date: 'created_at',
	opened: 'created_at',
	opened_at: 'created_at',
	submitted_at: 'created_at',
	id: 'external_id',
	key: 'external_id',
	issue_id: 'external_id',
	issue_key: 'external_id',
	ticket: 'external_id',
	ticket_id: 'external_id',
	number: 'external_id',
	reference: 'external_id'
};

/**
 * The field each column most likely holds, or null (ignored). A header that names a field wins
 * over one that only means it (a file with "Title" and "Summary" takes "Title" as the title), and
 * each field is taken by one column only, the first: the API refuses two columns for one field.
 */
export function guessMapping(columns: readonly string[]): (Field | null)[] {
	const guesses: (Field | null)[] = columns.map(() => null);
	const taken = new Set<Field>();
	const passes: ((normalized: string) => Field | null)[] = [
		(name) => (isField(name) ? name : null),
		(name) => SYNONYMS[name] ?? null
	];
	for (const pass of passes) {
		columns.forEach((column, i) => {
			if (guesses[i]) return;
			const field = pass(normalizeHeader(column));
			if (field && !taken.has(field)) {
				guesses[i] = field;
				taken.add(field);
			}
		});
	}
	return guesses;
}

/** The `mapping` the API takes: each mapped column's name (trimmed, as the API reads it) to its
 * field. Ignored columns are left out. */
export function mappingOf(
	columns: readonly string[],
	choices: readonly (Field | null)[]
): Record<string, Field> {
	const mapping: Record<string, Field> = {};
	columns.forEach((column, i) => {
		const field = choices[i];
		if (field) mapping[column.trim()] = field;
	});
	return mapping;
}

/** Fields chosen for more than one column (the API would refuse the file). */
export function duplicateFields(choices: readonly (Field | null)[]): Field[] {
	const seen = new Set<Field>();
	const twice = new Set<Field>();
	for (const field of choices) {
		if (!field) continue;
		if (seen.has(field)) twice.add(field);
		seen.add(field);
	}
	return FIELDS.filter((f) => twice.has(f));
}
