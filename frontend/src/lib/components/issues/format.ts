// Human wording for activity-history entries.
import type { Severity, Status } from '$lib/api/enums';
import { statusLabel, severityLabel } from '$lib/components/ui';

type Change = [unknown, unknown];
interface Person {
	id: number;
	full_name: string | null;
}

function list(names: string[]): string {
	return names.map((n) => `“${n}”`).join(', ');
}

/** One sentence per change, e.g. "moved this from Open to Triaged". */
export function describeChanges(changes: Record<string, Change>): string[] {
	const out: string[] = [];
	for (const [field, [before, after]] of Object.entries(changes)) {
		switch (field) {
			case 'status':
				out.push(
					`moved this from ${statusLabel(before as Status)} to ${statusLabel(after as Status)}`
				);
				break;
			case 'severity':
				out.push(
					`changed severity from ${severityLabel(before as Severity)} to ${severityLabel(after as Severity)}`
				);
				break;
			case 'title':
				out.push(`renamed this from “${String(before)}” to “${String(after)}”`);
				break;
			case 'description':
				out.push('edited the description');
				break;
			case 'assignee': {
				const a = after as Person | null;
				const b = before as Person | null;
				out.push(
					a ? `assigned this to ${a.full_name ?? 'someone'}` : `unassigned ${b?.full_name ?? ''}`
				);
				break;
			}
			case 'tags': {
				const old = (before as string[]) ?? [];
				const now = (after as string[]) ?? [];
				const added = now.filter((t) => !old.includes(t));
				const removed = old.filter((t) => !now.includes(t));
				if (added.length) out.push(`added ${added.length > 1 ? 'tags' : 'tag'} ${list(added)}`);
				if (removed.length)
					out.push(`removed ${removed.length > 1 ? 'tags' : 'tag'} ${list(removed)}`);
				break;
			}
			default:
				out.push(`changed ${field}`);
		}
	}
	return out;
}

/** Attachment events carry `{attachment: {id, filename, content_type, size_bytes}}`. */
function attachmentName(data: Record<string, unknown>): string {
	const attachment = data.attachment as { filename?: unknown } | undefined;
	return typeof attachment?.filename === 'string' ? attachment.filename : 'a file';
}

export function describeEvent(kind: string, data: Record<string, unknown>): string[] {
	switch (kind) {
		case 'issue.created':
			return ['filed this issue'];
		case 'issue.updated':
			return describeChanges((data.changes ?? {}) as Record<string, Change>);
		case 'comment.deleted':
			return ['deleted a comment'];
		case 'attachment.added':
			return [`attached ${attachmentName(data)}`];
		case 'attachment.deleted':
			return [`removed ${attachmentName(data)}`];
		default:
			return [kind.replace('.', ' ')];
	}
}
