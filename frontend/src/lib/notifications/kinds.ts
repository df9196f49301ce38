// The kinds of notification and the ways of being told about them, in the order the tracker
// shows them, with the words it uses for each.
import { everyMember } from '$lib/api/enums';
import type { components } from '$lib/api/schema';

export type Kind = components['schemas']['Kind'];
export type Delivery = components['schemas']['Delivery'];

/** What is addressed to you first, then what happens on issues you watch. */
export const KINDS = everyMember<Kind>()([
	'assigned',
	'mentioned',
	'commented',
	'status_changed',
	'attachment_added'
]);
/** From the quietest to the most immediate… and the daily round-up. */
export const DELIVERIES = everyMember<Delivery>()(['app', 'email', 'digest']);

const KIND_LABEL: Record<Kind, string> = {
	assigned: 'Assigned',
	mentioned: 'Mentioned',
	commented: 'Comment',
	status_changed: 'Status',
	attachment_added: 'File'
};

const KIND_TITLE: Record<Kind, string> = {
	assigned: 'Assigned to you',
	mentioned: 'Mentions',
	commented: 'Comments',
	status_changed: 'Status changes',
	attachment_added: 'New files'
};

const KIND_DESCRIPTION: Record<Kind, string> = {
	assigned: 'Someone makes you the assignee of an issue.',
	mentioned: 'Someone writes your @handle in an issue or a comment.',
	commented: 'Someone comments on an issue you watch.',
	status_changed: 'An issue you watch moves to another status.',
	attachment_added: 'Someone attaches a file to an issue you watch.'
};

const DELIVERY_LABEL: Record<Delivery, string> = {
	app: 'In the app',
	email: 'E-mail at once',
	digest: 'Daily digest'
};

/** A short tag for an inbox row: "Mentioned", "Comment"… */
export const kindLabel = (kind: Kind): string => KIND_LABEL[kind] ?? kind;
/** The heading of a kind on the settings page: "Mentions", "Status changes"… */
export const kindTitle = (kind: Kind): string => KIND_TITLE[kind] ?? kind;
/** When a kind of notification is sent. */
export const kindDescription = (kind: Kind): string => KIND_DESCRIPTION[kind] ?? '';
export const deliveryLabel = (delivery: Delivery): string => DELIVERY_LABEL[delivery] ?? delivery;
