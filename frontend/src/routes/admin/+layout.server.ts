import { error } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => {
	// hooks.server.ts already sent anonymous visitors to sign in.
	if (locals.user?.role !== 'ADMIN') {
		error(403, {
			message: 'Only administrators can manage users and webhooks.',
			code: 'role_required'
		});
	}
	return {};
};
