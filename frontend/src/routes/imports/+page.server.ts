// The import wizard: upload a file, map its columns (with a dry run of each mapping), import.
// Every step is a plain form post (progressively enhanced), so it works without JavaScript; the
// file waits on the web server between the steps (drafts.server.ts says why).
import { fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { guessMapping, mappingOf } from './columns';
import { discardDraft, openDraft, saveDraft, sweepDrafts } from './drafts.server';
import {
	choicesOf,
	DEFAULT_OPTIONS,
	dryRun,
	optionsOf,
	review,
	staffApi,
	startImport,
	type ImportOptions
} from './imports.server';
import { formatOf, MAX_IMPORT_BYTES, PreviewError, previewOf, type Preview } from './preview';

export const load: PageServerLoad = async (event) => {
	const client = staffApi(event);
	void sweepDrafts().catch(() => {});
	const { data } = await client.GET('/api/imports');
	event.setHeaders({ 'cache-control': 'private, no-store' });
	return { recent: (data ?? []).slice(0, 10), defaults: DEFAULT_OPTIONS };
};

/** The upload step again, with why the file was not taken. */
function refuseUpload(status: number, message: string, options: ImportOptions) {
	return fail(status, { upload: { message, options } });
}

const GONE =
	'The uploaded file is no longer here (a file waits an hour for its import): choose it again.';

export const actions: Actions = {
	upload: async (event) => {
		staffApi(event);
		const owner = event.locals.user!.id;
		const form = await event.request.formData();
		const options = optionsOf(form);
		const file = form.get('file');
		if (!(file instanceof File) || (file.size === 0 && file.name === '')) {
			return refuseUpload(400, 'Choose a CSV or JSON file to import.', options);
		}
		if (file.size === 0) return refuseUpload(422, `${file.name} is empty.`, options);
		if (file.size > MAX_IMPORT_BYTES) {
			return refuseUpload(
				413,
				'An import file is at most 10 MB: split it into smaller files.',
				options
			);
		}
		const format = formatOf(file.name, file.type);
		const upload = { filename: file.name, format, bytes: new Uint8Array(await file.arrayBuffer()) };

		let preview: Preview;
		try {
			preview = previewOf(upload.bytes, format);
		} catch (err) {
			if (!(err instanceof PreviewError)) throw err;
			// The API's own words are the more precise (it names the line or the byte): ask it.
			const checked = await dryRun(event, upload, {}, options);
			return refuseUpload(
				422,
				'refusal' in checked ? checked.refusal.message : err.message,
				options
			);
		}
		const id = await saveDraft(owner, file.name, format, upload.bytes);
		const draft = { id, ...upload };
		const { wizard, refusal } = await review(
			event,
			draft,
			preview,
			guessMapping(preview.columns),
			options
		);
		if (refusal && !refusal.mapping) {
			// Not something a mapping fixes (not UTF-8, too many rows…): back to choosing a file.
			await discardDraft(id);
			return refuseUpload(refusal.status, refusal.message, options);
		}
		return refusal ? fail(refusal.status, { wizard }) : { wizard };
	},

	/** Check the mapping again (`intent=check`) or import with it (`intent=import`). */
	review: async (event) => {
		staffApi(event);
		const owner = event.locals.user!.id;
		const form = await event.request.formData();
		const options = optionsOf(form);
		const draft = await openDraft(String(form.get('draft') ?? ''), owner);
		if (!draft) return refuseUpload(410, GONE, options);
		const preview = previewOf(draft.bytes, draft.format);
		const choices = choicesOf(form, preview.columns);

		if (form.get('intent') === 'import') {
			const result = await startImport(event, draft, mappingOf(preview.columns, choices), options);
			if ('started' in result) {
				await discardDraft(draft.id);
				redirect(303, `/imports/${result.started.id}`);
			}
			// Refused as a whole (the API checks the file again): the step shows why, with its report.
			const { wizard } = await review(event, draft, preview, choices, options);
			return fail(result.refusal.status, {
				wizard: { ...wizard, problem: result.refusal.message }
			});
		}
		const { wizard, refusal } = await review(event, draft, preview, choices, options);
		return refusal ? fail(refusal.status, { wizard }) : { wizard };
	}
};
