// Relative times ("3 hours ago") with the exact time kept for tooltips and <time datetime>.

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
	['year', 365 * 24 * 3600],
	['month', 30 * 24 * 3600],
	['week', 7 * 24 * 3600],
	['day', 24 * 3600],
	['hour', 3600],
	['minute', 60]
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en', {
	dateStyle: 'medium',
	timeStyle: 'short',
	timeZone: 'UTC'
});

export function relativeTime(iso: string, now: number = Date.now()): string {
	const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
	for (const [unit, size] of UNITS) {
		if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
	}
	return 'just now';
}

export function absoluteTime(iso: string): string {
	return `${absolute.format(new Date(iso))} UTC`;
}

/**
 * Microseconds since the epoch of an API timestamp (ISO 8601 with up to six fraction digits):
 * exact where `Date` keeps only milliseconds, so two changes in the same millisecond still order.
 */
export function micros(iso: string): number {
	const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(.*)$/.exec(iso);
	if (!m) return Date.parse(iso) * 1000;
	const whole = Date.parse(m[1] + (m[3] || 'Z'));
	return whole * 1000 + Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
}
