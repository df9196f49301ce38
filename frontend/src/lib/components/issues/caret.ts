// Where a character of a textarea is drawn, so a popup can open at the caret: a hidden copy of
// the textarea with the same box and type measures the text up to it.

const COPIED = [
	'boxSizing',
	'width',
	'height',
	'overflowX',
	'overflowY',
	'borderTopWidth',
	'borderRightWidth',
	'borderBottomWidth',
	'borderLeftWidth',
	'borderStyle',
	'paddingTop',
	'paddingRight',
	'paddingBottom',
	'paddingLeft',
	'fontStyle',
	'fontVariant',
	'fontWeight',
	'fontStretch',
	'fontSize',
	'fontFamily',
	'lineHeight',
	'letterSpacing',
	'wordSpacing',
	'textAlign',
	'textIndent',
	'textTransform',
	'tabSize',
	'direction'
] as const;

/** The top left of character `index` and the line's height, in px from the textarea's own top
 * left (its border box), as it is scrolled now. */
export function caretCoordinates(
	textarea: HTMLTextAreaElement,
	index: number
): { top: number; left: number; height: number } {
	const computed = getComputedStyle(textarea);
	const mirror = document.createElement('div');
	for (const name of COPIED) mirror.style[name] = computed[name];
	Object.assign(mirror.style, {
		position: 'absolute',
		visibility: 'hidden',
		top: '0',
		left: '-9999px',
		whiteSpace: 'pre-wrap',
		overflowWrap: 'break-word',
		overflow: 'hidden'
	});
	mirror.textContent = textarea.value.slice(0, index);
	const marker = document.createElement('span');
	marker.textContent = textarea.value.slice(index) || '.';
	mirror.appendChild(marker);
	document.body.appendChild(mirror);
	const lineHeight =
		Number.parseFloat(computed.lineHeight) || Number.parseFloat(computed.fontSize) * 1.4;
	const position = {
		top: marker.offsetTop - textarea.scrollTop,
		left: marker.offsetLeft - textarea.scrollLeft,
		height: lineHeight
	};
	mirror.remove();
	return position;
}
