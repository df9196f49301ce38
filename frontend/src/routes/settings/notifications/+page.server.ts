import { error, fail } from '@sveltejs/kit';
import { oneOf } from '$lib/api/enums';
import type { Problem } from '$lib/api/problem';
import { DELIVERIES, KINDS, type Delivery, type Kind } from '$lib/notifications/kinds';
import { signedInApi } from '$lib/server/notifications';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { data, response } = await signedInApi(event).GET('/api/users/me/notification-settings');
	if (!data)
		error(response.status >= 500 ? 502 : response.status, 'Your settings could not be loaded.');
	event.setHeaders({ 'cache-control': 'private, no-store' });
	return { settings: data };
};

export const actions: Actions = {
	default: async (event) => {
		const form = await event.request.formData();
		// One radio group per kind, named after it; a kind left out keeps its setting.
		const settings: { kind: Kind; delivery: Delivery }[] = [];
		for (const kind of KINDS) {
			const delivery = oneOf(DELIVERIES, form.get(kind));
			if (delivery) settings.push({ kind, delivery });
		}
		const {
			data,
			response,
			error: problem
		} = await signedInApi(event).PUT('/api/users/me/notification-settings', { body: { settings } });
		if (!data) {
			const detail = (problem as Partial<Problem> | undefined)?.detail;
			return fail(response.status, { message: detail ?? 'Your settings could not be saved.' });
		}
		return { saved: true as const };
	}
};
