import type { LayoutServerLoad } from './$types';
import { api } from '$lib/server/api';
import { unreadCount } from '$lib/server/notifications';
import { INBOX } from '$lib/notifications/inbox';

export const load: LayoutServerLoad = async ({ locals, fetch, depends }) => {
	depends(INBOX);
	const user = locals.user;
	const token = locals.accessToken;
	return {
		theme: locals.theme,
		// Only what the page shows: never a token.
		user: user
			? {
					id: user.id,
					email: user.email,
					full_name: user.full_name,
					username: user.username,
					role: user.role
				}
			: null,
		// A new object each time the load runs: the bell tells a fresh count from an older one.
		notifications:
			user && token ? { unread: await unreadCount(api(fetch, { accessToken: token })) } : null
	};
};
