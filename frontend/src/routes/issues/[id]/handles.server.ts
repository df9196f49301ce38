// The @handles of the people shown on an issue page (its reporter, assignee and commenters).
// The API's references to people carry only a name; the people who may see the issue — its
// reporter and the staff, the same who can be mentioned on it — come with their handles.
import type { ApiClient } from '$lib/server/api';

/** As many people as the API lists at once; on a larger team some names show without one. */
const MOST = 20;

/** Handle by user id, for the people who may see issue `issueId`; {} when the API cannot say. */
export async function handlesFor(
	client: ApiClient,
	issueId: number
): Promise<Record<number, string>> {
	try {
		const { data } = await client.GET('/api/users/mentionable', {
			params: { query: { issue_id: issueId, q: '', limit: MOST } }
		});
		return Object.fromEntries((data ?? []).map((p) => [p.id, p.username]));
	} catch {
		return {};
	}
}
