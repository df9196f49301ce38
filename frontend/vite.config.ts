/// <reference types="vitest/config" />
import tailwindcss from '@tailwindcss/vite';
import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, loadEnv } from 'vite';

export default defineConfig(({ mode }) => {
	const env = { ...loadEnv(mode, process.cwd(), ''), ...process.env };
	const apiUrl = (env.API_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');

	return {
		plugins: [
			tailwindcss(),
			sveltekit({
				compilerOptions: {
					// Force runes mode for the project, except for libraries. Can be removed in svelte 6.
					runes: ({ filename }) =>
						filename.split(/[/\\]/).includes('node_modules') ? undefined : true
				},
				adapter: adapter(),
				// Every page's Content-Security-Policy. 'auto' gives each server-rendered page a fresh
				// nonce for SvelteKit's own start-up script; no other inline script may run.
				csp: {
					mode: 'auto',
					directives: {
						'default-src': ['self'],
						'script-src': ['self'],
						// Style attributes (progress bars, chart colours) are rendered on the server.
						'style-src': ['self', 'unsafe-inline'],
						// Same-origin files only: an image in a Markdown description that points
						// elsewhere (a tracking pixel) is never fetched.
						'img-src': ['self', 'data:', 'blob:'],
						'font-src': ['self'],
						// 'self' covers the same-origin WebSocket (/api/ws).
						'connect-src': ['self'],
						// PDF previews frame /api/attachments/…, itself sandboxed by its own CSP.
						'frame-src': ['self'],
						'media-src': ['self', 'blob:'],
						'worker-src': ['none'],
						'manifest-src': ['self'],
						'object-src': ['none'],
						'base-uri': ['none'],
						// Every form posts to the pages themselves; external sign-in is a link.
						'form-action': ['self'],
						'frame-ancestors': ['none']
					}
				}
			})
		],
		// Unit tests (`npm run test:unit`); the browser tests live in backend/tests/e2e.
		test: {
			projects: [
				{
					extends: true,
					test: {
						name: 'server',
						include: ['src/**/*.test.ts'],
						exclude: ['src/**/*.svelte.test.ts']
					}
				},
				{
					extends: true,
					resolve: { conditions: ['browser'] },
					test: {
						name: 'runes',
						include: ['src/**/*.svelte.test.ts'],
						environment: './vitest.runes-environment.ts'
					}
				}
			]
		},
		server: {
			// Same single origin as server.js in production: /api (and the /api/ws upgrade) go to the API.
			proxy: {
				'^/api(/|\\?|$)': { target: apiUrl, ws: true, xfwd: true, changeOrigin: false }
			}
		}
	};
});
