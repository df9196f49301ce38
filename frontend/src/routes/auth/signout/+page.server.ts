import { redirect } from '@sveltejs/kit';
import { clearTokens, REFRESH_COOKIE, revoke } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.user) redirect(303, '/');
	return {};
};

export const actions: Actions = {
	default: async ({ cookies }) => {
		const refreshToken = cookies.get(REFRESH_COOKIE);
		// Revoking the refresh token ends its whole session at the API, access token included.
		if (refreshToken) await revoke(refreshToken);
		clearTokens(cookies);
		redirect(303, '/');
	}
};
