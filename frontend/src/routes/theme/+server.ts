// Theme switch without JavaScript: the toggle is a plain form posting here. With JavaScript the
// toggle sets the same cookie itself and never navigates.
import { error, redirect } from '@sveltejs/kit';
import { samePath } from '$lib/server/redirects';
import { isTheme, THEME_COOKIE, THEME_COOKIE_MAX_AGE } from '$lib/theme';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = async ({ request, cookies, url }) => {
	const form = await request.formData();
	const theme = form.get('theme');
	if (!isTheme(theme)) error(400, { message: 'theme must be one of system, light, dark' });

	cookies.set(THEME_COOKIE, theme, {
		path: '/',
		maxAge: THEME_COOKIE_MAX_AGE,
		sameSite: 'lax',
		// Read by the toggle's script too; it holds no secret.
		httpOnly: false,
		secure: url.protocol === 'https:'
	});

	const back = form.get('redirectTo');
	// Back to the page the toggle was on (the sign-in page too), never to another site.
	redirect(303, samePath(typeof back === 'string' ? back : null) ?? '/');
};
