import { redirect, type Handle, type RequestEvent } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { isTheme, THEME_COOKIE } from '$lib/theme';
import {
	ACCESS_COOKIE,
	clearTokens,
	fetchMe,
	needsRefresh,
	REFRESH_COOKIE,
	rotate,
	setTokens
} from '$lib/server/session';

/** Pages that need a signed-in user; anyone else is sent to sign in and brought back. */
const PROTECTED = ['/issues', '/dashboard', '/admin', '/inbox', '/settings', '/people'];

function isProtected(path: string): boolean {
	return PROTECTED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

const theme: Handle = async ({ event, resolve }) => {
	const cookie = event.cookies.get(THEME_COOKIE);
	event.locals.theme = isTheme(cookie) ? cookie : 'system';

	// Written into <html data-theme> during SSR: no flash of the wrong theme, no inline script.
	// (Security headers are set by server.js on every response, pages and files alike; each page's
	// Content-Security-Policy comes from kit.csp in vite.config.ts.)
	return resolve(event, {
		transformPageChunk: ({ html }) => html.replace('%tracker.theme%', event.locals.theme)
	});
};

async function refreshed(event: RequestEvent): Promise<string | undefined> {
	const refreshToken = event.cookies.get(REFRESH_COOKIE);
	if (!refreshToken) return undefined;
	const tokens = await rotate(refreshToken);
	if (!tokens) {
		clearTokens(event.cookies);
		return undefined;
	}
	setTokens(event, tokens);
	return tokens.access_token;
}

const session: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.accessToken = undefined;

	let access = event.cookies.get(ACCESS_COOKIE);
	let rotated = false;
	if (needsRefresh(access) && event.cookies.get(REFRESH_COOKIE)) {
		access = await refreshed(event);
		rotated = true;
	}
	if (access) {
		let me = await fetchMe(access);
		if (!me.user && me.status === 401 && !rotated) {
			// Ended early (sign-out elsewhere, a role or account change): one refresh decides.
			access = await refreshed(event);
			me = access ? await fetchMe(access) : me;
		}
		if (me.user) {
			event.locals.user = me.user;
			event.locals.accessToken = access;
		} else if (me.status === 401 || me.status === 403) {
			clearTokens(event.cookies);
		}
	}

	if (!event.locals.user && isProtected(event.url.pathname)) {
		const back = event.url.pathname + event.url.search;
		redirect(303, `/auth/signin?redirectTo=${encodeURIComponent(back)}`);
	}

	const response = await resolve(event);
	if (event.locals.user || event.cookies.get(REFRESH_COOKIE)) {
		// Pages for a signed-in person are theirs alone: never let a shared cache keep them.
		try {
			response.headers.set('Cache-Control', 'private, no-store');
		} catch {
			// A proxied fetch response keeps immutable headers; it sets its own caching.
		}
	}
	return response;
};

export const handle: Handle = sequence(theme, session);
