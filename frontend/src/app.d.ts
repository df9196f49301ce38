import type { Theme } from '$lib/theme';
import type { User } from '$lib/server/session';

// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
	namespace App {
		interface Error {
			message: string;
			code?: string;
		}
		interface Locals {
			theme: Theme;
			/** The signed-in user, loaded from GET /api/users/me on every request. */
			user: User | null;
			/** For server-side API calls on the user's behalf; never send it to the page. */
			accessToken: string | undefined;
		}
		// interface PageData {}
		// interface PageState {}
		// interface Platform {}
	}
}

export {};
