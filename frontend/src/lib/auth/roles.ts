import type { Role } from '$lib/api/enums';
import type { Tone } from '$lib/components/ui';

const LABEL: Record<Role, string> = {
	REPORTER: 'Reporter',
	MAINTAINER: 'Maintainer',
	ADMIN: 'Admin'
};
const TONE: Record<Role, Tone> = { REPORTER: 'neutral', MAINTAINER: 'teal', ADMIN: 'violet' };
const DESCRIPTION: Record<Role, string> = {
	REPORTER: 'Files issues and follows their own',
	MAINTAINER: 'Triages and works every issue',
	ADMIN: 'Everything, including people and roles'
};

export const roleLabel = (role: Role): string => LABEL[role] ?? role;
export const roleTone = (role: Role): Tone => TONE[role] ?? 'neutral';
export const roleDescription = (role: Role): string => DESCRIPTION[role] ?? '';
