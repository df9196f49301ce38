// The upload limits the API is configured with (MAX_UPLOAD_BYTES, MAX_ATTACHMENTS_PER_ISSUE), for
// pages with an uploader: the browser checks chosen files against the real limits, whatever the
// operator set, instead of a copy of the defaults.
import type { ApiClient } from './api';

export interface UploadLimits {
	/** Largest file, in bytes. */
	maxBytes: number;
	/** Most files one issue can carry. */
	maxFiles: number;
}

/**
 * GET /api/attachments/limits. Never throws: when the API cannot say, null, and the uploader falls
 * back to the API's defaults (the API enforces its limits either way).
 */
export async function uploadLimits(client: ApiClient): Promise<UploadLimits | null> {
	try {
		const { data } = await client.GET('/api/attachments/limits');
		return data ? { maxBytes: data.max_file_bytes, maxFiles: data.max_files_per_issue } : null;
	} catch {
		return null;
	}
}
