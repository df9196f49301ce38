import { redirect } from '@sveltejs/kit';
import { getApiHealth } from '$lib/server/api';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ fetch, locals, setHeaders }) => {
	// Someone signed in came to work: their issues, not the welcome page.
	if (locals.user) redirect(303, '/issues');
	// Health is live state: never let a cache keep an old answer.
	setHeaders({ 'cache-control': 'no-store' });
	return { health: await getApiHealth(fetch) };
};
