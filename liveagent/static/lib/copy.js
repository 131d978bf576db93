/* A page's Finnish copy: /static/copy/<page>.fi.json, read once when the page starts. */

/** The copy file of `page` ("agent", "editor", "widget") next to this module's static root. */
export async function loadCopy(page) {
  const response = await fetch(new URL(`../copy/${page}.fi.json`, import.meta.url), { cache: 'no-cache' });
  if (!response.ok) throw new Error(`copy ${page}: ${response.status}`);
  return response.json();
}
