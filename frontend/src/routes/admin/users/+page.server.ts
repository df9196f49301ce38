import { error, fail } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { oneOf, ROLES, type Role } from '$lib/api/enums';
import type { Problem } from '$lib/api/problem';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 25;

export const load: PageServerLoad = async ({ locals, url, fetch }) => {
	const q = url.searchParams.get('q')?.trim() || undefined;
	const roleParam = url.searchParams.get('role');
	const role = oneOf(ROLES, roleParam);
	const statusParam = url.searchParams.get('status');
	const isActive = statusParam === 'active' ? true : statusParam === 'inactive' ? false : undefined;
	const page = Math.max(1, Number(url.searchParams.get('page')) || 1);

	const { data, response } = await api(fetch, { accessToken: locals.accessToken }).GET(
		'/api/users',
		{
			params: {
				query: {
					q,
					role,
					is_active: isActive,
					limit: PAGE_SIZE,
					offset: (page - 1) * PAGE_SIZE
				}
			}
		}
	);
	if (!data) error(response.status === 403 ? 403 : 502, 'Could not load users.');
	return {
		users: data.items,
		total: data.total,
		page,
		pageSize: PAGE_SIZE,
		filters: { q: q ?? '', role: role ?? '', status: statusParam ?? '' },
		me: locals.user?.id ?? null
	};
};

async function update(
	locals: App.Locals,
	fetchImpl: typeof fetch,
	userId: number,
	body: { role?: Role; is_active?: boolean }
) {
	const {
		data,
		error: problem,
		response
	} = await api(fetchImpl, {
		accessToken: locals.accessToken
	}).PATCH('/api/users/{user_id}', { params: { path: { user_id: userId } }, body });
	if (data) return { ok: true as const, user: data };
	const detail =
		(problem as Partial<Problem> | undefined)?.detail ?? `The change failed (${response.status}).`;
	return fail(response.status, { error: detail, userId });
}

export const actions: Actions = {
	setRole: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const userId = Number(form.get('user_id'));
		const role = oneOf(ROLES, form.get('role'));
		if (!Number.isInteger(userId) || !role) {
			return fail(400, { error: 'Choose a role.', userId });
		}
		const result = await update(locals, fetch, userId, { role });
		return 'ok' in result
			? { message: `${result.user.full_name} is now ${role.toLowerCase()}.` }
			: result;
	},
	setActive: async ({ request, locals, fetch }) => {
		const form = await request.formData();
		const userId = Number(form.get('user_id'));
		const active = form.get('is_active') === 'true';
		if (!Number.isInteger(userId)) return fail(400, { error: 'Unknown user.', userId });
		const result = await update(locals, fetch, userId, { is_active: active });
		return 'ok' in result
			? {
					message: active
						? `${result.user.full_name} can sign in again.`
						: `${result.user.full_name} has been deactivated and signed out everywhere.`
				}
			: result;
	}
};
