import { fail, redirect } from '@sveltejs/kit';
import { safeRedirect, signInWithPassword, signUp } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	const redirectTo = safeRedirect(url.searchParams.get('redirectTo'));
	if (locals.user) redirect(303, redirectTo ?? '/');
	return { redirectTo };
};

interface SignupFailure {
	fullName: string;
	email: string;
	fieldErrors: Partial<Record<'full_name' | 'email' | 'password', string>>;
	error: string | null;
	emailTaken: boolean;
}

export const actions: Actions = {
	default: async (event) => {
		const form = await event.request.formData();
		const fullName = String(form.get('full_name') ?? '').trim();
		const email = String(form.get('email') ?? '').trim();
		const password = String(form.get('password') ?? '');
		const redirectTo = safeRedirect(String(form.get('redirectTo') ?? ''));
		const failure = (status: number, extra: Partial<SignupFailure>) =>
			fail(status, {
				fullName,
				email,
				fieldErrors: {},
				error: null,
				emailTaken: false,
				...extra
			} satisfies SignupFailure);

		const fieldErrors: SignupFailure['fieldErrors'] = {};
		if (!fullName) fieldErrors.full_name = 'Enter your name.';
		if (!email) fieldErrors.email = 'Enter your e-mail address.';
		if (password.length < 10) fieldErrors.password = 'Use at least 10 characters.';
		if (Object.keys(fieldErrors).length) return failure(400, { fieldErrors });

		const problem = await signUp(event, { email, password, full_name: fullName });
		if (problem) {
			if (problem.code === 'email_taken') {
				return failure(409, {
					emailTaken: true,
					fieldErrors: { email: 'An account with this e-mail address already exists.' }
				});
			}
			if (problem.code === 'weak_password') {
				return failure(422, { fieldErrors: { password: `${problem.detail}.` } });
			}
			if (problem.errors?.[0]?.field === 'email') {
				return failure(422, { fieldErrors: { email: 'Enter a valid e-mail address.' } });
			}
			return failure(problem.status, { error: problem.detail });
		}

		// Straight in: a new account should not have to type its password twice.
		const signInProblem = await signInWithPassword(event, email, password);
		if (signInProblem) redirect(303, '/auth/signin');
		redirect(303, redirectTo ?? '/');
	}
};
