// GET /inbox/unread → {unread}: the bell's count, read again when its live channel (re)subscribes.
// Asked here rather than of /api from the page, so the session is refreshed on the way.
import { json } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { unreadCount } from '$lib/server/notifications';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ locals, fetch }) => {
	if (!locals.user || !locals.accessToken) return json({ unread: 0 }, { status: 401 });
	const unread = await unreadCount(api(fetch, { accessToken: locals.accessToken }));
	return json({ unread }, { headers: { 'cache-control': 'private, no-store' } });
};
