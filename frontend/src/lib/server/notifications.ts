// Server-side access to the signed-in person's inbox: the unread count for the bell (read with
// every page the root layout renders) and the client the inbox and settings pages use.
import { redirect, type RequestEvent } from '@sveltejs/kit';
import { api, type ApiClient } from './api';

/** GET /api/notifications (one item): how many are unread. Never throws: 0 when the API cannot
 * say, so a page still renders when only the inbox is unavailable. */
export async function unreadCount(client: ApiClient): Promise<number> {
	try {
		const { data } = await client.GET('/api/notifications', {
			params: { query: { unread: true, limit: 1 } }
		});
		return data?.unread ?? 0;
	} catch {
		return 0;
	}
}

/** A typed API client acting as the signed-in user; sends anyone else to sign in (hooks.server.ts
 * already does so for these pages: this is for a session that ended in between). */
export function signedInApi(event: Pick<RequestEvent, 'locals' | 'fetch' | 'url'>): ApiClient {
	const token = event.locals.accessToken;
	if (!event.locals.user || !token) {
		const back = event.url.pathname + event.url.search;
		redirect(303, `/auth/signin?redirectTo=${encodeURIComponent(back)}`);
	}
	return api(event.fetch, { accessToken: token });
}
