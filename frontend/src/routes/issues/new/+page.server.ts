import { fail, redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { failAction, issueApi, parseTags } from '../issues.server';

const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
type Severity = (typeof SEVERITIES)[number];

function values(form: FormData) {
	const severity = String(form.get('severity') ?? 'MEDIUM');
	return {
		title: String(form.get('title') ?? ''),
		description: String(form.get('description') ?? ''),
		severity: (SEVERITIES as readonly string[]).includes(severity)
			? (severity as Severity)
			: 'MEDIUM',
		tags: String(form.get('tags') ?? '')
	};
}

export const load: PageServerLoad = async (event) => {
	const client = issueApi(event);
	const tags = await client.GET('/api/tags', { params: { query: { limit: 200 } } });
	return { tags: (tags.data ?? []).map((t) => t.name) };
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
		const { data, response, error } = await issueApi(event).POST('/api/issues', {
			body: {
				title: input.title,
				description: input.description,
				severity: input.severity,
				tags: parseTags(input.tags)
			}
		});
		if (!data) return failAction(event.url, response.status, error, { values: input });
		redirect(303, `/issues/${data.id}`);
	}
};
