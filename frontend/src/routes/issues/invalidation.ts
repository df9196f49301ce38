// Keys the issue pages' loads depend on, shared by the server loads and the pages that refresh them.
import { invalidate } from '$app/navigation';

/** The issue page's data after a file is uploaded to or deleted from it. */
export const ISSUE_ATTACHMENTS = 'app:issue-attachments';

/** Reload the issue page's data (files, count, history) after a file was added or removed. */
export function refreshIssueFiles(): Promise<void> {
	return invalidate(ISSUE_ATTACHMENTS);
}
