// Chart colours come from the design system's tone palette, so charts follow the theme (light and
// dark) and match the status and severity badges.
import type { Tone } from '$lib/components/ui';

export const toneColor = (tone: Tone): string => `var(--tk-${tone}-fg)`;

export interface Series {
	key: string;
	label: string;
	tone: Tone;
}

/** Short day label for axes and tables, in UTC like the numbers themselves. */
export function dayLabel(iso: string, withYear = false): string {
	const date = new Date(`${iso}T00:00:00Z`);
	return date.toLocaleDateString('en', {
		month: 'short',
		day: 'numeric',
		...(withYear ? { year: 'numeric' } : {}),
		timeZone: 'UTC'
	});
}

/** A "nice" upper bound for an axis: 1, 2, 5 × 10^n at or above the largest value. */
export function niceMax(value: number): number {
	if (value <= 0) return 1;
	const magnitude = 10 ** Math.floor(Math.log10(value));
	for (const step of [1, 2, 5, 10]) {
		if (step * magnitude >= value) return step * magnitude;
	}
	return 10 * magnitude;
}
