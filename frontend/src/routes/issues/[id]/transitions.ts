// The wording of the status buttons: a step forward in the workflow names where it goes, a step
// back says so.
import { STATUSES, type Status } from '$lib/api/enums';
import { statusLabel } from '$lib/components/ui/tones';

const FORWARD_LABEL: Record<Status, string> = {
	OPEN: 'Reopen',
	TRIAGED: 'Mark triaged',
	IN_PROGRESS: 'Start progress',
	DONE: 'Mark done'
};

/** Whether `to` comes later in the workflow than `from`. */
export function isForward(from: Status, to: Status): boolean {
	return STATUSES.indexOf(to) > STATUSES.indexOf(from);
}

/** The button that moves an issue from `from` to `to`. */
export function transitionLabel(from: Status, to: Status): string {
	if (to === 'OPEN' && from === 'DONE') return 'Reopen';
	return isForward(from, to) ? FORWARD_LABEL[to] : `Back to ${statusLabel(to)}`;
}
