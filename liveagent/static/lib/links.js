/*
 * The link sanitiser: https URLs in bot and agent text become links, nothing else does. Used by the
 * widget and by the editor's preview of it (one copy: tests/js/links.test.mjs).
 */
import { el, vh } from './dom.js';

const HTTPS_URL = /https:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/**
 * Text split into parts: {text} for plain text and {text, href} for an https link. Only a URL whose
 * parsed scheme is https becomes a link; its href is the parsed (normalised) URL.
 */
export function linkParts(text) {
  const parts = [];
  const pattern = new RegExp(HTTPS_URL.source, HTTPS_URL.flags);
  let last = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    let raw = match[0];
    const trailing = TRAILING_PUNCTUATION.exec(raw);
    if (trailing) raw = raw.slice(0, raw.length - trailing[0].length);
    let url = null;
    try {
      url = new URL(raw);
    } catch (err) {
      url = null;
    }
    if (!url || url.protocol !== 'https:' || !raw) continue;
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: raw, href: url.href });
    last = match.index + raw.length;
    pattern.lastIndex = last;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/**
 * Text with https links as <a> elements (new tab, no opener), built with createElement. Each link
 * ends with `newWindow` for screen readers, in a span of class `hiddenClass`.
 */
export function linkified(text, newWindow, hiddenClass) {
  const fragment = document.createDocumentFragment();
  for (const part of linkParts(text)) {
    if (!part.href) {
      fragment.appendChild(document.createTextNode(part.text));
      continue;
    }
    const link = el('a', { href: part.href, target: '_blank', rel: 'noopener noreferrer' }, [part.text]);
    link.appendChild(vh(' ' + newWindow, hiddenClass));
    fragment.appendChild(link);
  }
  return fragment;
}
