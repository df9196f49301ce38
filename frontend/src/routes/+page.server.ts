import { getApiHealth } from '$lib/server/api';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ fetch, setHeaders }) => {
	// Health is live state: never let a cache keep an old answer.
	setHeaders({ 'cache-control': 'no-store' });
	return { health: await getApiHealth(fetch) };
};
