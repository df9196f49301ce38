/** An auth page's address that sends the visitor on to `redirectTo` afterwards. */
export function withRedirect(path: string, redirectTo: string | null): string {
	return redirectTo ? `${path}?redirectTo=${encodeURIComponent(redirectTo)}` : path;
}
