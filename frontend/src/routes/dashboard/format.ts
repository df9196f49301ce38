/** A length of time as a person reads it: 45 min, 3.5 h, 12 d; a dash for none. */
export function duration(seconds: number | null | undefined): string {
	if (seconds === null || seconds === undefined) return '—';
	const minutes = seconds / 60;
	if (minutes < 60) return `${Math.max(1, Math.round(minutes))} min`;
	const hours = minutes / 60;
	if (hours < 48) return `${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h`;
	const days = hours / 24;
	return `${days < 10 ? days.toFixed(1) : Math.round(days)} d`;
}
