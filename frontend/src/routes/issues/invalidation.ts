// Keys the issue pages' loads depend on, shared by the server loads and the pages that refresh them.

/** The issue page's data after a file is uploaded to or deleted from it. */
export const ISSUE_ATTACHMENTS = 'app:issue-attachments';
