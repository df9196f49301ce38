export { default as BarList } from './BarList.svelte';
export { default as ChartFrame } from './ChartFrame.svelte';
export { default as Legend } from './Legend.svelte';
export { default as TimeChart } from './TimeChart.svelte';
export { dayLabel, niceMax, toneColor, type Series } from './colors';
