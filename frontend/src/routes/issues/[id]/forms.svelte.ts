// The issue page's forms. Each posts to an action of +page.server.ts, so it works without
// JavaScript; enhanced, it shows progress, asks first when its button says so (`data-confirm`),
// keeps what was typed when the action fails and reloads the page's data when it succeeds.
import type { ActionResult, SubmitFunction } from '@sveltejs/kit';
import { toast } from '$lib/components/ui';

/** What a refused action sends back (failAction in issues.server.ts). */
export interface Failure {
	message?: string;
	action?: unknown;
	commentId?: unknown;
	stale?: boolean;
}

type SuccessData = Extract<ActionResult, { type: 'success' }>['data'];
/** Runs after an action succeeded; true when it has updated the page itself. */
export type OnSaved = (action: string, data: SuccessData) => boolean | Promise<boolean>;

export class IssueForms {
	/** The action whose answer is awaited. */
	busy = $state<string | null>(null);
	#failure: () => Failure | null;
	#onSaved: OnSaved;

	constructor(failure: () => Failure | null, onSaved: OnSaved) {
		this.#failure = failure;
		this.#onSaved = onSaved;
	}

	/** The last refused action, as the page's `form` prop holds it. */
	get failed(): Failure | null {
		return this.#failure();
	}

	/** Why `action` was refused, or ''. */
	failedFor(action: string): string {
		const failed = this.failed;
		return failed && failed.action === action ? (failed.message ?? '') : '';
	}

	/** Why the last action on comment `id` was refused, or ''. */
	failedOnComment(id: number): string {
		const failed = this.failed;
		return failed && failed.action !== undefined && 'commentId' in failed && failed.commentId === id
			? (failed.message ?? '')
			: '';
	}

	/** `use:enhance={forms.submit('assign', 'Assignee updated')}`; the toast is for success. */
	submit = (action: string, success?: string): SubmitFunction => {
		return ({ cancel, submitter }) => {
			if (submitter?.dataset.confirm && !confirm(submitter.dataset.confirm)) {
				cancel();
				return;
			}
			this.busy = action;
			return async ({ result, update }) => {
				this.busy = null;
				if (result.type === 'success') {
					if (success) toast.success(success);
					if (await this.#onSaved(action, result.data)) return;
				}
				await update({ reset: false });
			};
		};
	};
}
