// The import wizard's side of POST /api/imports: who may use it, the options and mapping a form
// posts, and the dry run and the real import, each sent as the multipart request the API takes.
import { error, redirect, type RequestEvent } from '@sveltejs/kit';
import { everyMember, oneOf } from '$lib/api/enums';
import type { ApiClient, Schemas } from '$lib/server/api';
import { issueApi, problemOf, UPLOAD_TIMEOUT_MS } from '../issues/issues.server';
import { isField, mappingOf, namedField, type Field } from './columns';
import type { Draft } from './drafts.server';
import type { Preview } from './preview';

export type OnError = Schemas['OnError'];
export type UnknownPeople = Schemas['UnknownPeople'];
export type DryRunReport = Schemas['DryRunReport'];
export type ImportOut = Schemas['ImportOut'];

export const ON_ERROR = everyMember<OnError>()(['abort', 'skip']);
export const UNKNOWN_PEOPLE = everyMember<UnknownPeople>()(['refuse', 'create']);

export interface ImportOptions {
	on_error: OnError;
	unknown_reporters: UnknownPeople;
}

export const DEFAULT_OPTIONS: ImportOptions = { on_error: 'abort', unknown_reporters: 'refuse' };

/** One column of the file, as the mapping step shows it. */
export interface Column {
	name: string;
	/** The field chosen for it; null: ignored. */
	field: Field | null;
	/** The field the API reads it as whatever the mapping says (its header names one). */
	named: Field | null;
}

/** Everything the mapping step shows; an action's answer, so it survives without JavaScript. */
export interface Wizard {
	draft: string;
	filename: string;
	format: Draft['format'];
	size: number;
	columns: Column[];
	rows: string[][];
	options: ImportOptions;
	report: DryRunReport | null;
	/** Why the dry run refused the file as mapped (e.g. no title column). */
	problem: string | null;
}

type Event = Pick<RequestEvent, 'locals' | 'fetch' | 'url'>;

/** The API client for the import pages: staff only (the API checks again); anonymous visitors
 * are sent to sign in. Actions call it too, since layout loads do not run before an action. */
export function staffApi(event: Event): ApiClient {
	const client = issueApi(event, { timeoutMs: UPLOAD_TIMEOUT_MS });
	const role = event.locals.user?.role;
	if (role !== 'MAINTAINER' && role !== 'ADMIN') {
		error(403, {
			message: 'Only maintainers and administrators can import issues.',
			code: 'role_required'
		});
	}
	return client;
}

export function optionsOf(form: FormData): ImportOptions {
	return {
		on_error: oneOf(ON_ERROR, form.get('on_error')) ?? DEFAULT_OPTIONS.on_error,
		unknown_reporters:
			oneOf(UNKNOWN_PEOPLE, form.get('unknown_reporters')) ?? DEFAULT_OPTIONS.unknown_reporters
	};
}

/** The field chosen for each column (`field.<index>` selects); a column named after a field
 * cannot be ignored (the API would read it anyway), so an empty choice keeps that field. */
export function choicesOf(form: FormData, columns: readonly string[]): (Field | null)[] {
	return columns.map((name, i) => {
		const value = form.get(`field.${i}`);
		return isField(value) ? value : namedField(name);
	});
}

export function columnsOf(names: readonly string[], choices: readonly (Field | null)[]): Column[] {
	return names.map((name, i) => ({ name, field: choices[i] ?? null, named: namedField(name) }));
}

/** Problems with the mapping rather than the file: the mapping step shows them. */
const MAPPING_PROBLEMS = new Set(['missing_column', 'duplicate_column', 'invalid_mapping']);

export interface Refusal {
	status: number;
	message: string;
	/** The mapping can fix it; otherwise the file itself has to change. */
	mapping: boolean;
}

function refusal(event: Event, status: number, body: unknown): Refusal {
	if (status === 401) {
		redirect(303, `/auth/signin?redirectTo=${encodeURIComponent(event.url.pathname)}`);
	}
	const problem = problemOf(body, status);
	const field = problem.errors?.[0];
	const message =
		problem.code === 'validation_error' && field
			? `${field.field}: ${field.message}`
			: (problem.detail ??
				(status === 413
					? 'The file is too large to import.'
					: `The import could not be checked (${status}). Please try again.`));
	return { status, message, mapping: MAPPING_PROBLEMS.has(problem.code ?? '') };
}

interface Upload {
	filename: string;
	format: Draft['format'];
	bytes: Uint8Array;
}

function post(
	event: Event,
	file: Upload,
	mapping: Record<string, Field>,
	options: ImportOptions,
	dryRun: boolean
) {
	return staffApi(event).POST('/api/imports', {
		params: { query: dryRun ? { dry_run: true } : {} },
		// The schema types the file part as its name; the serializer below sends the bytes.
		body: {
			file: file.filename,
			format: file.format,
			mapping: JSON.stringify(mapping),
			...options
		},
		bodySerializer: (fields) => {
			const multipart = new FormData();
			multipart.set('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>]), fields.file);
			multipart.set('format', fields.format ?? file.format);
			multipart.set('mapping', fields.mapping ?? '{}');
			multipart.set('on_error', fields.on_error ?? DEFAULT_OPTIONS.on_error);
			multipart.set('unknown_reporters', fields.unknown_reporters ?? 'refuse');
			return multipart;
		}
	});
}

/** What importing `file` with this mapping would do, or why the API refuses it. */
export async function dryRun(
	event: Event,
	file: Upload,
	mapping: Record<string, Field>,
	options: ImportOptions
): Promise<{ report: DryRunReport } | { refusal: Refusal }> {
	const { data, error: body, response } = await post(event, file, mapping, options, true);
	if (!data) return { refusal: refusal(event, response.status, body) };
	return { report: data as DryRunReport };
}

/** Queue the import for real: the API answers 202 with the import. */
export async function startImport(
	event: Event,
	file: Upload,
	mapping: Record<string, Field>,
	options: ImportOptions
): Promise<{ started: ImportOut } | { refusal: Refusal }> {
	const { data, error: body, response } = await post(event, file, mapping, options, false);
	if (!data) return { refusal: refusal(event, response.status, body) };
	return { started: data as ImportOut };
}

/** The mapping step for a draft, with the dry run of its current mapping (or why the API
 * refused it: a refusal the mapping cannot fix sends the wizard back to choosing a file). */
export async function review(
	event: Event,
	draft: Pick<Draft, 'id' | 'filename' | 'format' | 'bytes'>,
	preview: Preview,
	choices: (Field | null)[],
	options: ImportOptions
): Promise<{ wizard: Wizard; refusal: Refusal | null }> {
	const checked = await dryRun(event, draft, mappingOf(preview.columns, choices), options);
	const refused = 'refusal' in checked ? checked.refusal : null;
	const wizard: Wizard = {
		draft: draft.id,
		filename: draft.filename,
		format: draft.format,
		size: draft.bytes.length,
		columns: columnsOf(preview.columns, choices),
		rows: preview.rows,
		options,
		report: 'report' in checked ? checked.report : null,
		problem: refused?.message ?? null
	};
	return { wizard, refusal: refused };
}
