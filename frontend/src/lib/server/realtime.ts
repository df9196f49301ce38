// Where a page's live updates start. A load reads the stream position BEFORE its data and returns
// it; the page subscribes with it as `since`, so a change committed while the data was being read
// (or before the socket was up) is replayed rather than lost. See docs/realtime.md.
import type { ApiClient } from './api';

/**
 * GET /api/realtime/position: the newest event id. Never throws: when the API cannot say, the page
 * gets null and goes live from the moment it subscribes, as it would without a position.
 */
export async function streamPosition(client: ApiClient): Promise<number | null> {
	try {
		const { data } = await client.GET('/api/realtime/position');
		return data?.position ?? null;
	} catch {
		return null;
	}
}
