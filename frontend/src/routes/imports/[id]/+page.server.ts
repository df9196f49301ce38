import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';
import { failLoad } from '../../issues/issues.server';
import { staffApi } from '../imports.server';

export const load: PageServerLoad = async (event) => {
	const client = staffApi(event);
	const id = Number(event.params.id);
	if (!Number.isInteger(id) || id < 1 || id > 2_147_483_647) {
		error(404, { message: 'This import does not exist.', code: 'import_not_found' });
	}
	const {
		data,
		response,
		error: body
	} = await client.GET('/api/imports/{import_id}', {
		params: { path: { import_id: id } }
	});
	if (response.status === 404) {
		error(404, {
			message: 'This import does not exist, or someone else started it.',
			code: 'import_not_found'
		});
	}
	if (!data) failLoad(event.url, response.status, body);
	event.setHeaders({ 'cache-control': 'private, no-store' });
	return { imp: data };
};
