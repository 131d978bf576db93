/* Text formatting shared by the pages: copy templates, times, durations. Finnish locale throughout. */

/** A copy template with {name} placeholders filled in: format('Arvio {n} / 5', {n: 3}). */
export function format(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (whole, name) =>
    values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole);
}

/** `one` for exactly 1, otherwise `many`; both templates may use {n}. */
export function plural(n, one, many) {
  return format(n === 1 ? one : many, { n });
}

function parsed(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Hours and minutes ("14.05"); '' for a missing or invalid time. */
export function clockTime(iso) {
  const date = parsed(iso);
  return date ? date.toLocaleTimeString('fi-FI', { hour: '2-digit', minute: '2-digit' }) : '';
}

/** The time only for today, the date and time for other days. */
export function shortTime(iso) {
  const date = parsed(iso);
  if (!date) return '';
  const time = clockTime(iso);
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.toLocaleDateString('fi-FI')} ${time}`;
}

/** "1.2.2025 klo 14.05". */
export function dateTime(iso) {
  const date = parsed(iso);
  if (!date) return '';
  const day = date.toLocaleDateString('fi-FI', { day: 'numeric', month: 'numeric', year: 'numeric' });
  return `${day} klo ${clockTime(iso)}`;
}

/** "45 s", "3 min 05 s", "2 h 07 min". */
export function duration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A whole number with Finnish digit grouping: "2 000" (a no-break space, so it never wraps). */
export function wholeNumber(n) {
  return Number(n).toLocaleString('fi-FI', { maximumFractionDigits: 0 });
}
