import { fail, redirect } from '@sveltejs/kit';
import { providers, retryText, safeRedirect, signInWithPassword } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

const OIDC_ERRORS: Record<string, string> = {
	state: 'That sign-in link expired or was already used. Please try again.',
	provider: 'Signing in with your external account did not work.'
};

export const load: PageServerLoad = async ({ locals, url }) => {
	const redirectTo = safeRedirect(url.searchParams.get('redirectTo'));
	if (locals.user) redirect(303, redirectTo ?? '/');
	const errorKey = url.searchParams.get('error');
	return {
		redirectTo,
		providers: await providers(),
		// Set when a protected page sent the visitor here.
		needsSignIn: redirectTo !== null,
		// Fixed wording only: text taken from the URL would let a crafted link speak for us.
		externalError: errorKey ? (OIDC_ERRORS[errorKey] ?? OIDC_ERRORS.provider) : null
	};
};

export const actions: Actions = {
	default: async (event) => {
		const form = await event.request.formData();
		const email = String(form.get('email') ?? '').trim();
		const password = String(form.get('password') ?? '');
		const redirectTo = safeRedirect(String(form.get('redirectTo') ?? ''));

		const fieldErrors: Record<string, string> = {};
		if (!email) fieldErrors.email = 'Enter your e-mail address.';
		if (!password) fieldErrors.password = 'Enter your password.';
		if (Object.keys(fieldErrors).length) return fail(400, { email, fieldErrors });

		const problem = await signInWithPassword(event, email, password);
		if (problem) {
			const message =
				problem.code === 'invalid_credentials'
					? 'That e-mail address and password do not match an account.'
					: problem.code === 'login_throttled'
						? `Too many failed attempts. ${retryText(problem.retryAfter)}`
						: problem.code === 'account_disabled'
							? 'This account has been deactivated. Contact an administrator.'
							: problem.detail;
			return fail(problem.status === 429 ? 429 : 400, {
				email,
				error: message,
				retryAfter: problem.retryAfter ?? null
			});
		}
		redirect(303, redirectTo ?? '/');
	}
};
