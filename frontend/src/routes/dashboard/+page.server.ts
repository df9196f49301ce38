import { api, type Schemas } from '$lib/server/api';
import { streamPosition } from '$lib/server/realtime';
import type { PageServerLoad } from './$types';
import { DEFAULT_RANGE, RANGES } from './ranges';

export type DashboardData =
	| { state: 'signed-out'; days: number }
	| { state: 'error'; days: number; message: string }
	| {
			state: 'ok';
			days: number;
			summary: Schemas['StatsSummary'];
			daily: Schemas['DailyStats'];
			breakdown: Schemas['StatsBreakdown'] | null;
			/** The live feed's position before the numbers were read: live updates start there. */
			position: number | null;
	  };

// hooks.server.ts resolves the session (refreshing the access token when needed) and sends
// signed-out visitors to sign in; the token stays on the server.
export const load: PageServerLoad = async ({ fetch, locals, url, depends, setHeaders }) => {
	depends('app:stats');
	setHeaders({ 'cache-control': 'private, no-store' });
	const requested = Number(url.searchParams.get('days'));
	const days = (RANGES as readonly number[]).includes(requested) ? requested : DEFAULT_RANGE;

	const token = locals.accessToken;
	if (!locals.user || !token) return { state: 'signed-out', days } satisfies DashboardData;

	const client = api(fetch, { accessToken: token });
	try {
		const position = await streamPosition(client);
		const [summary, daily, breakdown] = await Promise.all([
			client.GET('/api/stats/summary'),
			client.GET('/api/stats/daily', { params: { query: { days } } }),
			client.GET('/api/stats/breakdown', { params: { query: { days } } })
		]);
		if (summary.response.status === 401 || daily.response.status === 401) {
			return { state: 'signed-out', days } satisfies DashboardData;
		}
		if (!summary.data || !daily.data) {
			return {
				state: 'error',
				days,
				message: `The API answered ${summary.response.ok ? daily.response.status : summary.response.status}.`
			} satisfies DashboardData;
		}
		return {
			state: 'ok',
			days,
			summary: summary.data,
			daily: daily.data,
			// The breakdowns are extra: without them the page still shows the rest.
			breakdown: breakdown.data ?? null,
			position
		} satisfies DashboardData;
	} catch (err) {
		const message =
			err instanceof Error && err.name === 'TimeoutError'
				? 'The API did not answer in time.'
				: 'The API is unreachable.';
		return { state: 'error', days, message } satisfies DashboardData;
	}
};
