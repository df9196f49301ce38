import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

// What a mention in an issue or comment links to. It says nothing about whether the handle
// belongs to anyone: writing a mention never tells its author who exists (docs/notifications.md).
const HANDLE = /^[a-z0-9_-]{2,39}$/i;

export const load: PageServerLoad = ({ params, locals }) => {
	if (!HANDLE.test(params.handle)) error(404, 'There is no such handle.');
	const handle = params.handle.toLowerCase();
	return { handle, you: locals.user?.username === handle };
};
