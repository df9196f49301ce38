// Colour language of the product: one tone per issue status and per severity, used by badges,
// charts and anywhere else a status or severity is shown.
import type { Severity, Status } from '$lib/api/enums';

export type Tone = 'neutral' | 'blue' | 'violet' | 'teal' | 'green' | 'amber' | 'orange' | 'red';

const STATUS_TONE: Record<Status, Tone> = {
	OPEN: 'blue',
	TRIAGED: 'violet',
	IN_PROGRESS: 'teal',
	DONE: 'green'
};
const STATUS_LABEL: Record<Status, string> = {
	OPEN: 'Open',
	TRIAGED: 'Triaged',
	IN_PROGRESS: 'In progress',
	DONE: 'Done'
};
const SEVERITY_TONE: Record<Severity, Tone> = {
	LOW: 'neutral',
	MEDIUM: 'amber',
	HIGH: 'orange',
	CRITICAL: 'red'
};
const SEVERITY_LABEL: Record<Severity, string> = {
	LOW: 'Low',
	MEDIUM: 'Medium',
	HIGH: 'High',
	CRITICAL: 'Critical'
};

export const statusTone = (status: Status): Tone => STATUS_TONE[status] ?? 'neutral';
export const statusLabel = (status: Status): string => STATUS_LABEL[status] ?? status;
export const severityTone = (severity: Severity): Tone => SEVERITY_TONE[severity] ?? 'neutral';
export const severityLabel = (severity: Severity): string => SEVERITY_LABEL[severity] ?? severity;

/** Utility classes per tone: soft background, readable text, hairline border. */
export const TONE_CLASSES: Record<Tone, string> = {
	neutral: 'bg-tone-neutral-bg text-tone-neutral-fg border-tone-neutral-border',
	blue: 'bg-tone-blue-bg text-tone-blue-fg border-tone-blue-border',
	violet: 'bg-tone-violet-bg text-tone-violet-fg border-tone-violet-border',
	teal: 'bg-tone-teal-bg text-tone-teal-fg border-tone-teal-border',
	green: 'bg-tone-green-bg text-tone-green-fg border-tone-green-border',
	amber: 'bg-tone-amber-bg text-tone-amber-fg border-tone-amber-border',
	orange: 'bg-tone-orange-bg text-tone-orange-fg border-tone-orange-border',
	red: 'bg-tone-red-bg text-tone-red-fg border-tone-red-border'
};
