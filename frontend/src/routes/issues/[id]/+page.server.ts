import { redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import {
	chosenFiles,
	failAction,
	failLoad,
	ifMatch,
	issueApi,
	parseTags,
	UPLOAD_TIMEOUT_MS
} from '../issues.server';
import { ISSUE_ATTACHMENTS } from '../invalidation';
import { handlesFor } from './handles.server';
import { loadHistory, pagesParam } from './history.server';
import { streamPosition } from '$lib/server/realtime';
import { uploadLimits } from '$lib/server/uploads';
import { oneOf, SEVERITIES, STATUSES, type Severity, type Status } from '$lib/api/enums';

function issueId(params: { id: string }, url: URL): number {
	const id = Number(params.id);
	if (!Number.isInteger(id) || id < 1 || id > 2 ** 31 - 1) failLoad(url, 404, null);
	return id;
}

export const load: PageServerLoad = async (event) => {
	const { params, url, setHeaders, depends } = event;
	depends(ISSUE_ATTACHMENTS);
	const id = issueId(params, url);
	const client = issueApi(event);
	const path = { params: { path: { issue_id: id } } };
	// Before the data: live updates start from here, so nothing committed meanwhile is missed.
	const position = await streamPosition(client);
	const [issue, history, attachments, limits, handles] = await Promise.all([
		client.GET('/api/issues/{issue_id}', path),
		loadHistory(client, id, pagesParam(url)),
		client.GET('/api/issues/{issue_id}/attachments', path),
		uploadLimits(client),
		handlesFor(client, id)
	]);
	if (!issue.data) failLoad(url, issue.response.status, issue.error);
	if (!history.ok) failLoad(url, history.status, history.error);
	if (!attachments.data) failLoad(url, attachments.response.status, attachments.error);

	const staff = issue.data.permissions.assign;
	const [assignees, tags] = staff
		? await Promise.all([
				client.GET('/api/issues/assignees'),
				client.GET('/api/tags', { params: { query: { limit: 200 } } })
			])
		: [null, null];
	setHeaders({ 'cache-control': 'private, no-store' });
	const { comments, events, ...historyState } = history.history;
	return {
		issue: issue.data,
		comments,
		events,
		history: historyState,
		position,
		attachments: attachments.data,
		uploadLimits: limits,
		assignees: assignees?.data ?? [],
		knownTags: (tags?.data ?? []).map((t) => t.name),
		handles
	};
};

async function patch(
	event: Parameters<Actions[string]>[0],
	body: {
		title?: string;
		description?: string;
		severity?: Severity;
		tags?: string[];
		assignee_id?: number | null;
		status?: Status;
	},
	form: FormData,
	extra: Record<string, unknown> = {}
) {
	const id = issueId(event.params as { id: string }, event.url);
	const { data, response, error } = await issueApi(event).PATCH('/api/issues/{issue_id}', {
		params: { path: { issue_id: id }, header: { 'if-match': ifMatch(form) } },
		body
	});
	if (!data) return failAction(event.url, response.status, error, extra);
	return { ok: true as const, ...extra };
}

export const actions: Actions = {
	/** Without JavaScript the uploader is a plain file input posted here; with it, files go
	 * straight to the API with a progress bar each. */
	attach: async (event) => {
		const id = issueId(event.params, event.url);
		const files = chosenFiles(await event.request.formData());
		if (!files.length) {
			return failAction(
				event.url,
				422,
				{ detail: 'Choose at least one file.' },
				{ action: 'attach' }
			);
		}
		const { data, response, error } = await issueApi(event, { timeoutMs: UPLOAD_TIMEOUT_MS }).POST(
			'/api/issues/{issue_id}/attachments',
			{
				params: { path: { issue_id: id } },
				// The typed body names the parts; the serializer sends the files themselves.
				body: { file: files.map((f) => f.name) },
				bodySerializer: () => {
					const multipart = new FormData();
					for (const file of files) multipart.append('file', file, file.name);
					return multipart;
				}
			}
		);
		if (!data) return failAction(event.url, response.status, error, { action: 'attach' });
		return { ok: true as const, action: 'attach' };
	},

	transition: async (event) => {
		const form = await event.request.formData();
		const status = oneOf(STATUSES, form.get('status'));
		if (!status) return failAction(event.url, 422, { detail: 'Unknown status' });
		return patch(event, { status }, form, { action: 'transition' });
	},

	assign: async (event) => {
		const form = await event.request.formData();
		const raw = String(form.get('assignee_id') ?? '');
		const assignee = /^\d+$/.test(raw) ? Number(raw) : null;
		return patch(event, { assignee_id: assignee }, form, { action: 'assign' });
	},

	tags: async (event) => {
		const form = await event.request.formData();
		return patch(event, { tags: parseTags(form.get('tags')) }, form, { action: 'tags' });
	},

	edit: async (event) => {
		const form = await event.request.formData();
		const values = {
			title: String(form.get('title') ?? ''),
			description: String(form.get('description') ?? ''),
			severity: oneOf(SEVERITIES, form.get('severity')) ?? 'MEDIUM'
		};
		return patch(event, values, form, { action: 'edit', values });
	},

	comment: async (event) => {
		const form = await event.request.formData();
		const body = String(form.get('body') ?? '');
		const id = issueId(event.params, event.url);
		if (!body.trim()) {
			return failAction(
				event.url,
				422,
				{ detail: 'Write something first.' },
				{
					action: 'comment',
					body
				}
			);
		}
		const { data, response, error } = await issueApi(event).POST(
			'/api/issues/{issue_id}/comments',
			{ params: { path: { issue_id: id } }, body: { body } }
		);
		if (!data) return failAction(event.url, response.status, error, { action: 'comment', body });
		return { ok: true as const, action: 'comment', commentId: data.id };
	},

	editComment: async (event) => {
		const form = await event.request.formData();
		const commentId = Number(form.get('comment_id'));
		const body = String(form.get('body') ?? '');
		const { data, response, error } = await issueApi(event).PATCH('/api/comments/{comment_id}', {
			params: { path: { comment_id: commentId } },
			body: { body }
		});
		if (!data) {
			return failAction(event.url, response.status, error, { action: 'editComment', commentId });
		}
		return { ok: true as const, action: 'editComment', commentId };
	},

	deleteComment: async (event) => {
		const form = await event.request.formData();
		const commentId = Number(form.get('comment_id'));
		const { response, error } = await issueApi(event).DELETE('/api/comments/{comment_id}', {
			params: { path: { comment_id: commentId } }
		});
		if (!response.ok) {
			return failAction(event.url, response.status, error, { action: 'deleteComment', commentId });
		}
		return { ok: true as const, action: 'deleteComment' };
	},

	/** Watch (`watch=true`) or stop watching the issue. */
	watch: async (event) => {
		const id = issueId(event.params, event.url);
		const watch = (await event.request.formData()).get('watch') === 'true';
		const client = issueApi(event);
		const path = { params: { path: { issue_id: id } } };
		const { response, error } = watch
			? await client.PUT('/api/issues/{issue_id}/watch', path)
			: await client.DELETE('/api/issues/{issue_id}/watch', path);
		if (!response.ok) return failAction(event.url, response.status, error, { action: 'watch' });
		return { ok: true as const, action: 'watch' };
	},

	delete: async (event) => {
		const id = issueId(event.params, event.url);
		const { response, error } = await issueApi(event).DELETE('/api/issues/{issue_id}', {
			params: { path: { issue_id: id } }
		});
		if (!response.ok) return failAction(event.url, response.status, error, { action: 'delete' });
		redirect(303, '/issues');
	}
};
