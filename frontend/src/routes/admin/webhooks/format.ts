// How the webhook pages show states and times.
import type { Tone } from '$lib/components/ui';
import type { Schemas } from '$lib/server/api';

type DeliveryState = Schemas['OutboxState'];

const STATE: Record<DeliveryState, { label: string; tone: Tone }> = {
	PENDING: { label: 'Pending', tone: 'amber' },
	DELIVERED: { label: 'Delivered', tone: 'green' },
	FAILED: { label: 'Failed', tone: 'red' }
};

export function stateLabel(state: DeliveryState): string {
	return STATE[state].label;
}

export function stateTone(state: DeliveryState): Tone {
	return STATE[state].tone;
}

// UTC on the server and in the browser alike, so the page hydrates to the same text.
const moment = new Intl.DateTimeFormat('en', {
	dateStyle: 'medium',
	timeStyle: 'medium',
	timeZone: 'UTC'
});

export function when(value: string | null | undefined): string {
	return value ? `${moment.format(new Date(value))} UTC` : '—';
}

export function eventsSummary(events: string[]): string {
	return events.includes('*') ? 'Every event' : events.join(', ');
}
