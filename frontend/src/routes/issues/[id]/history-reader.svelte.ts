// Reading more of an issue's history in place. The load reads the history in steps (`?pages=N`,
// see history.server.ts) and cuts the timeline where it stops being complete; "Show more" reads one
// more step, "Show all" the rest, each by replacing the page's URL.
import { goto } from '$app/navigation';
import { page } from '$app/state';

export class HistoryReader {
	/** The read the viewer asked for, while it runs. */
	loading = $state<'more' | 'all' | null>(null);
	// A read in flight: a live refresh waits for it (a reload of the current URL started meanwhile
	// would cancel it, and the read may have started before the change it reports).
	#reading: Promise<void> | null = null;

	/** This page's URL reading `pages` steps of the history, with an optional `#fragment`. */
	href(pages: number | 'all', hash = ''): string {
		const params = new URLSearchParams(page.url.searchParams);
		params.set('pages', String(pages));
		return `${page.url.pathname}?${params}${hash}`;
	}

	async read(href: string, options: Parameters<typeof goto>[1]): Promise<void> {
		const read = goto(href, { replaceState: true, ...options });
		this.#reading = read;
		try {
			await read;
		} finally {
			if (this.#reading === read) this.#reading = null;
		}
	}

	/** Resolves once no read is in flight (whether the last one worked or not). */
	async settled(): Promise<void> {
		while (this.#reading) await this.#reading.catch(() => {});
	}
}
