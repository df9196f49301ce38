// The end of an external sign-in: the API sends the browser here with OUR code and the state we
// chose. The state must match the flow cookie; the code is redeemed with the kept verifier.
import { redirect } from '@sveltejs/kit';
import { FLOW_COOKIE, redeemCode, safeRedirect, setTokens } from '$lib/server/session';
import type { RequestHandler } from './$types';

interface Flow {
	verifier: string;
	state: string;
	redirectTo: string;
}

function readFlow(raw: string | undefined): Flow | null {
	try {
		const flow = JSON.parse(raw ?? '');
		return typeof flow?.verifier === 'string' && typeof flow?.state === 'string' ? flow : null;
	} catch {
		return null;
	}
}

export const GET: RequestHandler = async (event) => {
	const { url, cookies } = event;
	const flow = readFlow(cookies.get(FLOW_COOKIE));
	cookies.delete(FLOW_COOKIE, { path: '/auth' });

	const state = url.searchParams.get('state');
	if (!flow || !state || state !== flow.state) redirect(303, '/auth/signin?error=state');

	const error = url.searchParams.get('error');
	const code = url.searchParams.get('code');
	if (error || !code) {
		// The provider's or API's explanation is logged, not echoed into the page.
		console.warn(`[auth] external sign-in failed: ${url.searchParams.get('error_description')}`);
		redirect(303, '/auth/signin?error=provider');
	}

	const tokens = await redeemCode(event, code, flow.verifier);
	if ('status' in tokens) redirect(303, '/auth/signin?error=provider');
	setTokens(event, tokens);
	redirect(303, safeRedirect(flow.redirectTo) ?? '/');
};
