import { fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import {
	chosenFiles,
	failAction,
	isFileProblem,
	issueApi,
	parseTags,
	UPLOAD_TIMEOUT_MS
} from '../issues.server';
import { oneOf, SEVERITIES } from '$lib/api/enums';
import { uploadLimits } from '$lib/server/uploads';

function values(form: FormData) {
	return {
		title: String(form.get('title') ?? ''),
		description: String(form.get('description') ?? ''),
		severity: oneOf(SEVERITIES, form.get('severity')) ?? 'MEDIUM',
		tags: String(form.get('tags') ?? '')
	};
}

export const load: PageServerLoad = async (event) => {
	const client = issueApi(event);
	const [tags, limits] = await Promise.all([
		client.GET('/api/tags', { params: { query: { limit: 200 } } }),
		uploadLimits(client)
	]);
	return { tags: (tags.data ?? []).map((t) => t.name), uploadLimits: limits };
};

export const actions: Actions = {
	/** The no-JavaScript preview: render the Markdown on the server and show the form again. */
	preview: async (event) => {
		const form = await event.request.formData();
		const input = values(form);
		const { data, response, error } = await issueApi(event).POST('/api/markdown/preview', {
			body: { text: input.description }
		});
		if (!data) return failAction(event.url, response.status, error, { values: input });
		return { values: input, preview: data.html };
	},

	create: async (event) => {
		const form = await event.request.formData();
		const input = values(form);
		if (!input.title.trim()) {
			return fail(422, {
				values: input,
				message: 'Give the issue a title.',
				fieldErrors: { title: 'A title is required' } as Record<string, string>
			});
		}
		const files = chosenFiles(form);
		const body = {
			title: input.title,
			description: input.description,
			severity: input.severity,
			tags: parseTags(input.tags)
		};
		// With files, the issue and its attachments go to the API as one multipart request: it
		// creates all of them or, if it refuses a file, none.
		const { data, response, error } = await issueApi(event, {
			timeoutMs: files.length ? UPLOAD_TIMEOUT_MS : undefined
		}).POST('/api/issues', {
			body,
			bodySerializer: files.length
				? (fields) => {
						const multipart = new FormData();
						multipart.set('title', fields.title);
						multipart.set('description', fields.description ?? '');
						multipart.set('severity', fields.severity ?? 'MEDIUM');
						for (const tag of fields.tags ?? []) multipart.append('tags', tag);
						for (const file of files) multipart.append('file', file, file.name);
						return multipart;
					}
				: undefined
		});
		if (!data) {
			return failAction(event.url, response.status, error, {
				values: input,
				fileProblem: isFileProblem(response.status, error)
			});
		}
		redirect(303, `/issues/${data.id}`);
	}
};
