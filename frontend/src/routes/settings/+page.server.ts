import { redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

// The only settings a person has so far are how they are told about things.
export const load: PageServerLoad = () => redirect(307, '/settings/notifications');
