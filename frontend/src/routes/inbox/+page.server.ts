import { error, fail, redirect, type RequestEvent } from '@sveltejs/kit';
import type { Problem } from '$lib/api/problem';
import { INBOX } from '$lib/notifications/inbox';
import { signedInApi } from '$lib/server/notifications';
import { inboxHref, inboxQueryOf } from './inbox-query';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 25;

export const load: PageServerLoad = async (event) => {
	const { url, setHeaders, depends } = event;
	// Refreshed with the bell: a live change to the inbox reloads the list too.
	depends(INBOX);
	const query = inboxQueryOf(url.searchParams);
	const { data, response } = await signedInApi(event).GET('/api/notifications', {
		params: {
			query: {
				unread: query.filter === 'unread' || undefined,
				cursor: query.cursor ?? undefined,
				limit: PAGE_SIZE
			}
		}
	});
	if (!data) {
		// A cursor from an older list (notifications cleared since): start from the newest.
		if (response.status === 400 && query.cursor) redirect(303, inboxHref({ filter: query.filter }));
		error(response.status >= 500 ? 502 : response.status, 'The inbox could not be loaded.');
	}
	setHeaders({ 'cache-control': 'private, no-store' });
	return { ...query, page: data, pageSize: PAGE_SIZE };
};

function notificationId(form: FormData): number | null {
	const id = Number(form.get('id'));
	return Number.isInteger(id) && id > 0 && id <= 2 ** 31 - 1 ? id : null;
}

/** Back to the list the form was posted from (its filter and page). */
function back(event: RequestEvent): never {
	redirect(303, inboxHref(inboxQueryOf(event.url.searchParams)));
}

async function markRead(event: RequestEvent, id: number) {
	const { response, error: problem } = await signedInApi(event).POST(
		'/api/notifications/{notification_id}/read',
		{ params: { path: { notification_id: id } } }
	);
	// 404: not (or no longer) one of yours; nothing left to mark.
	if (response.ok || response.status === 404) return null;
	const detail = (problem as Partial<Problem> | undefined)?.detail;
	return fail(response.status, { message: detail ?? 'It could not be marked read. Try again.' });
}

export const actions: Actions = {
	/** Clicking a notification: marked read, then its issue opens. */
	open: async (event) => {
		const form = await event.request.formData();
		const id = notificationId(form);
		if (id === null) return fail(400, { message: 'Unknown notification.' });
		const failed = await markRead(event, id);
		if (failed) return failed;
		const issueId = Number(form.get('issue_id'));
		if (Number.isInteger(issueId) && issueId > 0) redirect(303, `/issues/${issueId}`);
		back(event);
	},

	/** Marked read where it is, without opening it. */
	read: async (event) => {
		const id = notificationId(await event.request.formData());
		if (id === null) return fail(400, { message: 'Unknown notification.' });
		const failed = await markRead(event, id);
		if (failed) return failed;
		back(event);
	},

	readAll: async (event) => {
		const { response } = await signedInApi(event).POST('/api/notifications/read-all');
		if (!response.ok) {
			return fail(response.status, { message: 'Your notifications could not be marked read.' });
		}
		back(event);
	}
};
