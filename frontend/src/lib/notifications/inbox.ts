// Keys shared by the loads that read the inbox and the code that refreshes them.

/** What the root layout's load (the bell's unread count) depends on. */
export const INBOX = 'app:inbox';
