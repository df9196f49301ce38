// Start signing in with the external provider: our PKCE verifier and state stay in a short-lived
// httpOnly cookie; the browser goes to the API, which sends it on to the provider.
import { redirect } from '@sveltejs/kit';
import {
	challengeOf,
	CLIENT_ID,
	FLOW_COOKIE,
	newState,
	newVerifier,
	redirectUri,
	safeRedirect
} from '$lib/server/session';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) => {
	const verifier = newVerifier();
	const state = newState();
	const redirectTo = safeRedirect(event.url.searchParams.get('redirectTo')) ?? '/';
	event.cookies.set(FLOW_COOKIE, JSON.stringify({ verifier, state, redirectTo }), {
		path: '/auth',
		httpOnly: true,
		// Lax: the cookie must come back on the provider's top-level redirect to /auth/callback.
		sameSite: 'lax',
		secure: event.url.protocol === 'https:',
		maxAge: 600
	});
	const params = new URLSearchParams({
		client_id: CLIENT_ID,
		redirect_uri: redirectUri(event),
		code_challenge: challengeOf(verifier),
		code_challenge_method: 'S256',
		state
	});
	redirect(303, `/api/oauth/oidc/start?${params}`);
};
