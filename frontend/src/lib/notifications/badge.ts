// What the bell in the header says about the unread notifications.

/** The most the badge counts to; above it, it says "99+". */
export const BADGE_MAX = 99;

/** The badge's text: '' at 0 (no badge), the count up to 99, then "99+". */
export function badgeText(unread: number): string {
	if (!Number.isFinite(unread) || unread <= 0) return '';
	return unread > BADGE_MAX ? `${BADGE_MAX}+` : String(Math.floor(unread));
}

/** The bell's accessible name: "Notifications", or "Notifications, 3 unread". */
export function bellLabel(unread: number): string {
	const text = badgeText(unread);
	return text ? `Notifications, ${text} unread` : 'Notifications';
}
