/**
 * Reconnect delay: exponential with "equal jitter" — half fixed, half random — so a server
 * restart is not followed by every tab reconnecting in the same millisecond.
 */
export function backoffDelay(
	attempt: number,
	{ base = 500, max = 30_000, random = Math.random } = {}
): number {
	const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt));
	return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
