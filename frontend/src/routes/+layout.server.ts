import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => {
	const user = locals.user;
	return {
		theme: locals.theme,
		// Only what the page shows: never a token.
		user: user
			? { id: user.id, email: user.email, full_name: user.full_name, role: user.role }
			: null
	};
};
