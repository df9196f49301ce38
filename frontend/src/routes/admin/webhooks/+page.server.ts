import { error, fail } from '@sveltejs/kit';
import { api, type Schemas } from '$lib/server/api';
import type { Problem } from '$lib/api/problem';
import type { Actions, PageServerLoad } from './$types';

type DeliveryState = Schemas['OutboxState'];
type EventName = Schemas['WebhookCreate']['events'][number];
const STATES: DeliveryState[] = ['PENDING', 'DELIVERED', 'FAILED'];
const PAGE_SIZE = 20;

export const load: PageServerLoad = async ({ locals, url, fetch }) => {
	const client = api(fetch, { accessToken: locals.accessToken });
	const [hooks, kinds] = await Promise.all([
		client.GET('/api/webhooks'),
		client.GET('/api/webhooks/events')
	]);
	if (!hooks.data || !kinds.data) {
		error(hooks.response.status === 403 ? 403 : 502, 'Could not load the webhooks.');
	}

	// The delivery log of one endpoint: ?hook=<id>, filtered by ?state=, paged by ?cursor=.
	const hookId = Number(url.searchParams.get('hook'));
	const selected = hooks.data.find((h) => h.id === hookId) ?? null;
	const stateParam = url.searchParams.get('state');
	const state = STATES.find((s) => s === stateParam);
	const cursor = url.searchParams.get('cursor') || undefined;
	let log: { items: Schemas['DeliveryOut'][]; nextCursor: string | null } | null = null;
	if (selected) {
		const { data } = await client.GET('/api/webhooks/{webhook_id}/deliveries', {
			params: {
				path: { webhook_id: selected.id },
				query: {
					state,
					cursor: cursor && /^\d{1,10}$/.test(cursor) ? cursor : undefined,
					limit: PAGE_SIZE
				}
			}
		});
		log = data
			? { items: data.items, nextCursor: data.next_cursor }
			: { items: [], nextCursor: null };
	}
	return {
		hooks: hooks.data,
		kinds: kinds.data,
		selected,
		log,
		filter: { state: state ?? '', paged: Boolean(cursor) }
	};
};

function problemDetail(problem: unknown, status: number): string {
	const body = problem as Partial<Problem> | undefined;
	const field = body?.errors?.[0];
	if (body?.code === 'validation_error' && field) return `${field.field}: ${field.message}`;
	return body?.detail ?? `The change failed (${status}).`;
}

/** The events a form asks for: every kind ("all"), or the boxes ticked (the API refuses a
 * kind it does not know, naming it). */
function eventsOf(form: FormData): EventName[] {
	if (form.get('all_events')) return ['*'];
	return form.getAll('events').map((kind) => String(kind) as EventName);
}

/** The answer to an action the API refused: which action, which endpoint, and why. */
function refused(action: string, id: number | null, problem: unknown, response: Response) {
	return fail(response.status, {
		action,
		...(id ? { id } : {}),
		error: problemDetail(problem, response.status)
	});
}

function patchHook(
	fetch: typeof globalThis.fetch,
	locals: App.Locals,
	id: number,
	body: Schemas['WebhookUpdate']
) {
	return api(fetch, { accessToken: locals.accessToken }).PATCH('/api/webhooks/{webhook_id}', {
		params: { path: { webhook_id: id } },
		body
	});
}

function idOf(form: FormData): number | null {
	const id = Number(form.get('id'));
	return Number.isInteger(id) && id > 0 ? id : null;
}

export const actions: Actions = {
	create: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const url = String(form.get('url') ?? '').trim();
		const description = String(form.get('description') ?? '');
		const events = eventsOf(form);
		const values = { url, description, events };
		if (!url)
			return fail(400, { action: 'create', error: 'Enter the URL to send events to.', values });
		if (events.length === 0) {
			return fail(400, { action: 'create', error: 'Choose at least one event.', values });
		}
		const {
			data,
			error: problem,
			response
		} = await api(fetch, {
			accessToken: locals.accessToken
		}).POST('/api/webhooks', { body: { url, description, events, active: true } });
		if (!data) {
			return fail(response.status, {
				action: 'create',
				error: problemDetail(problem, response.status),
				values
			});
		}
		return {
			action: 'create',
			message: `Webhook added: events will be sent to ${data.url}.`,
			secret: { id: data.id, url: data.url, value: data.secret }
		};
	},

	update: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const id = idOf(form);
		if (!id) return fail(400, { action: 'update', error: 'Unknown webhook.' });
		const events = eventsOf(form);
		if (events.length === 0) {
			return fail(400, { action: 'update', id, error: 'Choose at least one event.' });
		}
		const {
			data,
			error: problem,
			response
		} = await patchHook(fetch, locals, id, {
			url: String(form.get('url') ?? '').trim(),
			description: String(form.get('description') ?? ''),
			events,
			active: form.get('active') === 'on'
		});
		if (!data) return refused('update', id, problem, response);
		return { action: 'update', id, message: 'Webhook saved.' };
	},

	setActive: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const id = idOf(form);
		if (!id) return fail(400, { action: 'setActive', error: 'Unknown webhook.' });
		const active = form.get('active') === 'true';
		const { data, error: problem, response } = await patchHook(fetch, locals, id, { active });
		if (!data) return refused('setActive', id, problem, response);
		return {
			action: 'setActive',
			id,
			message: active
				? 'Webhook switched on: new events will be sent again.'
				: 'Webhook paused: nothing is sent until it is switched on.'
		};
	},

	rotate: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const id = idOf(form);
		if (!id) return fail(400, { action: 'rotate', error: 'Unknown webhook.' });
		const {
			data,
			error: problem,
			response
		} = await api(fetch, {
			accessToken: locals.accessToken
		}).POST('/api/webhooks/{webhook_id}/rotate-secret', { params: { path: { webhook_id: id } } });
		if (!data) return refused('rotate', id, problem, response);
		return {
			action: 'rotate',
			id,
			message: 'New secret made: deliveries are signed with it from now on.',
			secret: { id: data.id, url: data.url, value: data.secret }
		};
	},

	delete: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const id = idOf(form);
		if (!id) return fail(400, { action: 'delete', error: 'Unknown webhook.' });
		const { error: problem, response } = await api(fetch, {
			accessToken: locals.accessToken
		}).DELETE('/api/webhooks/{webhook_id}', { params: { path: { webhook_id: id } } });
		if (!response.ok) return refused('delete', id, problem, response);
		return { action: 'delete', message: 'Webhook deleted, with its delivery log.' };
	},

	redeliver: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const id = idOf(form);
		const deliveryId = String(form.get('delivery_id') ?? '');
		if (!id || !/^[0-9a-f-]{36}$/i.test(deliveryId)) {
			return fail(400, { action: 'redeliver', error: 'Unknown delivery.' });
		}
		const {
			data,
			error: problem,
			response
		} = await api(fetch, {
			accessToken: locals.accessToken
		}).POST('/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver', {
			params: { path: { webhook_id: id, delivery_id: deliveryId } }
		});
		if (!data) return refused('redeliver', id, problem, response);
		return {
			action: 'redeliver',
			id,
			message: 'Delivery queued again: it is sent within a few seconds.'
		};
	}
};
