// App-wide toasts. Push from event handlers (browser only); <Toaster /> in the root layout renders
// them in aria-live regions. On the server this module is shared by all requests, so pushes there
// are ignored.
import { browser } from '$app/environment';

export type ToastTone = 'info' | 'success' | 'warning' | 'error';

export interface ToastOptions {
	title: string;
	description?: string;
	tone?: ToastTone;
	/** Milliseconds before it hides itself; 0 keeps it until dismissed. Errors default to 8 s. */
	duration?: number;
}

export interface ToastItem extends Required<Omit<ToastOptions, 'description'>> {
	id: number;
	description?: string;
}

class Toaster {
	items: ToastItem[] = $state([]);
	#next = 1;
	#timers = new Map<number, ReturnType<typeof setTimeout>>();

	push(options: ToastOptions): number {
		if (!browser) return 0;
		const tone = options.tone ?? 'info';
		const item: ToastItem = {
			id: this.#next++,
			title: options.title,
			description: options.description,
			tone,
			duration: options.duration ?? (tone === 'error' ? 8000 : 4500)
		};
		// Newest last; keep the stack short.
		this.items = [...this.items, item].slice(-5);
		if (item.duration > 0) {
			this.#timers.set(
				item.id,
				setTimeout(() => this.dismiss(item.id), item.duration)
			);
		}
		return item.id;
	}

	dismiss(id: number) {
		clearTimeout(this.#timers.get(id));
		this.#timers.delete(id);
		this.items = this.items.filter((item) => item.id !== id);
	}

	info = (title: string, description?: string) => this.push({ title, description, tone: 'info' });
	success = (title: string, description?: string) =>
		this.push({ title, description, tone: 'success' });
	warning = (title: string, description?: string) =>
		this.push({ title, description, tone: 'warning' });
	error = (title: string, description?: string) => this.push({ title, description, tone: 'error' });
}

export const toast = new Toaster();
