export { default as Markdown } from './Markdown.svelte';
export { default as MarkdownEditor } from './MarkdownEditor.svelte';
export { default as RelativeTime } from './RelativeTime.svelte';
export { describeEvent } from './format';
export { relativeTime, absoluteTime, micros } from './time';
