import type { Handle } from '@sveltejs/kit';
import { isTheme, THEME_COOKIE } from '$lib/theme';

export const handle: Handle = async ({ event, resolve }) => {
	const cookie = event.cookies.get(THEME_COOKIE);
	event.locals.theme = isTheme(cookie) ? cookie : 'system';

	const response = await resolve(event, {
		// Written into <html data-theme> during SSR: no flash of the wrong theme, no inline script.
		transformPageChunk: ({ html }) => html.replace('%tracker.theme%', event.locals.theme)
	});

	response.headers.set('X-Content-Type-Options', 'nosniff');
	response.headers.set('Referrer-Policy', 'strict-origin-when-cross-origin');
	if (response.headers.get('content-type')?.startsWith('text/html')) {
		response.headers.set('X-Frame-Options', 'DENY');
	}
	return response;
};
