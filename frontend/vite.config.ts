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
				adapter: adapter()
			})
		],
		server: {
			// Same single origin as server.js in production: /api (and the /api/ws upgrade) go to the API.
			proxy: {
				'^/api(/|\\?|$)': { target: apiUrl, ws: true, xfwd: true, changeOrigin: false }
			}
		}
	};
});
