/*
 * The supervisors' insights view (docs/metrics.md): a period (today, 7 or 30 days, or chosen days), its
 * figures against the previous period of the same length, charts with a table beside each (the table is
 * what a screen reader reads; the chart is an image with a title and a description), and the daily
 * series as a CSV download. Reads GET /api/agent/insights, which only supervisors may call.
 */
import { el, str } from '../lib/dom.js';
import { duration, format, wholeNumber } from '../lib/format.js';
import { AGENT_API } from '../lib/session.js';
import { api, request } from './http.js';
import { announce, copy, state, ui } from './state.js';

const SVG = 'http://www.w3.org/2000/svg';
const PRESETS = ['today', 'week', 'month', 'custom'];
const PRESET_DAYS = { today: 1, week: 7, month: 30 };
const TOP_TOPICS = 10;
const REPORTING_ZONE = 'Europe/Helsinki'; // the insights' days (docs/metrics.md); the answer's time_zone
let built = null; // the view's controls, made the first time it is shown
let loading = null;

// ---- numbers and dates as the figures show them ---------------------------------------------------------
function percentText(fraction) {
  if (fraction === null || fraction === undefined) return copy.insightsNoData;
  return Number(fraction).toLocaleString('fi-FI', { style: 'percent', maximumFractionDigits: 1 });
}

function secondsText(seconds) {
  return seconds === null || seconds === undefined ? copy.insightsNoData : duration(Math.round(seconds));
}

function countText(n) {
  return n === null || n === undefined ? copy.insightsNoData : wholeNumber(n);
}

/** "2026-11-30" -> "30.11.2026", without going through a Date (no time zone can move the day). */
function dayText(isoDay) {
  const [year, month, day] = str(isoDay).split('-');
  return day ? `${Number(day)}.${Number(month)}.${year}` : str(isoDay);
}

/** Today in the zone whose days the service counts (liveagent/store/schema.py REPORTING_ZONE), not the
 * browser's: between midnight in Helsinki and midnight where the browser is, they are different days. */
function reportingToday() {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: REPORTING_ZONE, year: 'numeric', month: '2-digit',
    day: '2-digit' }).formatToParts(new Date());
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return new Date(Date.UTC(part('year'), part('month') - 1, part('day')));
}

/** A calendar day (a UTC midnight) as "YYYY-MM-DD". */
function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function presetPeriod(preset) {
  const last = reportingToday();
  const first = new Date(last.getTime() - (PRESET_DAYS[preset] - 1) * 86400000);
  return { from: isoDay(first), to: isoDay(last) };
}

// ---- the controls ----------------------------------------------------------------------------------------
function buildView() {
  const presets = PRESETS.map((preset) =>
    el('div', { className: 'inline-field checkbox' }, [
      el('input', { type: 'radio', name: 'insights-preset', id: `insights-${preset}`, value: preset,
        checked: preset === 'month', onchange: presetChanged }),
      el('label', { for: `insights-${preset}`, text: copy.insightsPresets[preset] }),
    ]));
  const from = el('input', { type: 'date', id: 'insights-from', required: true, oninput: daysEdited });
  const to = el('input', { type: 'date', id: 'insights-to', required: true, oninput: daysEdited });
  const csv = el('a', { id: 'insights-csv', className: 'insights-csv', download: '', text: copy.insightsCsv });
  const form = el('form', { className: 'insights-period', novalidate: true, onsubmit: submitted }, [
    el('fieldset', {}, [
      el('legend', { text: copy.insightsPeriod }),
      el('div', { className: 'insights-presets' }, presets),
    ]),
    el('div', { className: 'insights-days' }, [
      el('div', { className: 'inline-field' }, [el('label', { for: 'insights-from', text: copy.insightsFrom }), from]),
      el('div', { className: 'inline-field' }, [el('label', { for: 'insights-to', text: copy.insightsTo }), to]),
      el('button', { type: 'submit', id: 'insights-show', text: copy.insightsShow }),
      csv,
    ]),
  ]);
  const status = el('p', { id: 'insights-status', className: 'small', role: 'status' });
  const error = el('p', { id: 'insights-error', className: 'error', role: 'alert' });
  const body = el('div', { id: 'insights-body', className: 'insights-body' });
  ui.insightsView.append(el('h2', { id: 'insights-title', tabindex: '-1', text: copy.insightsTitle }), form, status,
    error, body);
  built = { form, from, to, csv, status, error, body };
  setDays(presetPeriod('month'));
}

function setDays(period) {
  built.from.value = period.from;
  built.to.value = period.to;
}

function chosenPreset() {
  const checked = built.form.querySelector('input[name="insights-preset"]:checked');
  return checked ? checked.value : 'custom';
}

function presetChanged() {
  const preset = chosenPreset();
  if (preset === 'custom') {
    built.from.focus();
    return;
  }
  setDays(presetPeriod(preset));
  loadInsights();
}

/** Days typed by hand are a period of their own ("Muu jakso"). */
function daysEdited() {
  const preset = chosenPreset();
  if (preset === 'custom') return;
  const expected = presetPeriod(preset);
  if (expected.from !== built.from.value || expected.to !== built.to.value) {
    built.form.querySelector('#insights-custom').checked = true;
  }
}

function submitted(event) {
  event.preventDefault();
  loadInsights();
}

/** The view was opened: made the first time, then the chosen period read again (figures move). */
export function showInsights() {
  if (!built) buildView();
  loadInsights();
}

export async function loadInsights() {
  if (!built) return;
  if (!built.from.value || !built.to.value) {
    built.error.textContent = copy.insightsPeriodMissing;
    return;
  }
  const query = new URLSearchParams({ from: built.from.value, to: built.to.value });
  built.csv.href = `${AGENT_API}/insights?${query}&format=csv`;
  built.csv.setAttribute('download', `lumo-tilastot-${built.from.value}-${built.to.value}.csv`);
  built.status.textContent = copy.insightsLoading;
  const titles = loadTopicTitles();
  const mine = (loading = api('GET', `/insights?${query}`));
  try {
    const data = await mine;
    await titles;
    if (loading !== mine) return; // a newer period was asked for meanwhile
    state.insights = data;
    built.error.textContent = '';
    renderInsights(data);
    const status = format(copy.insightsShown, { from: dayText(data.from), to: dayText(data.to) });
    built.status.textContent = status;
    announce(status);
  } catch (err) {
    if (loading !== mine) return;
    built.status.textContent = '';
    built.error.textContent = err.message;
  }
}

// ---- the figures --------------------------------------------------------------------------------------------
function figure(label, now, before, note) {
  return el('div', { className: 'insights-figure' }, [
    el('dt', { text: label }),
    el('dd', {}, [
      el('span', { className: 'insights-value', text: now }),
      el('span', { className: 'insights-previous', text: format(copy.insightsPrevious, { value: before }) }),
      note ? el('span', { className: 'small', text: note }) : null,
    ]),
  ]);
}

function figures(data) {
  const p = data.previous;
  const both = (show, pick) => [show(pick(data)), show(pick(p))];
  const rows = [
    [copy.insightsFigures.conversations, ...both(countText, (d) => d.conversations)],
    [copy.insightsFigures.containment, ...both(percentText, (d) => d.containment_rate),
      format(copy.insightsFigures.containmentNote, { contained: wholeNumber(data.contained),
        handedOff: wholeNumber(data.handed_off), contact: wholeNumber(data.contact_requests) })],
    [copy.insightsFigures.handoff, ...both(percentText, (d) => d.handoff_rate)],
    [copy.insightsFigures.contact, ...both(percentText, (d) => d.contact_request_rate)],
    [copy.insightsFigures.fallback, ...both(percentText, (d) => d.fallback.rate)],
    [copy.insightsFigures.waitMedian, ...both(secondsText, (d) => d.queue.wait_seconds.p50)],
    [copy.insightsFigures.waitP90, ...both(secondsText, (d) => d.queue.wait_seconds.p90)],
    [copy.insightsFigures.abandoned, ...both(percentText, (d) => d.queue.abandoned_rate)],
    [copy.insightsFigures.firstResponse, ...both(secondsText, (d) => d.agents.first_response_seconds.p50)],
    [copy.insightsFigures.handle, ...both(secondsText, (d) => d.agents.handle_seconds.p50)],
    [copy.insightsFigures.csatPeople, ...both(percentText, (d) => d.csat.people.rate),
      format(copy.insightsFigures.rated, { n: wholeNumber(data.csat.people.rated) })],
    [copy.insightsFigures.csatBot, ...both(percentText, (d) => d.csat.bot.rate),
      format(copy.insightsFigures.rated, { n: wholeNumber(data.csat.bot.rated) })],
    [copy.insightsFigures.suggestions, ...both(percentText, (d) => d.suggestions_used.rate),
      format(copy.insightsFigures.suggestionsNote, { used: wholeNumber(data.suggestions_used.used),
        shown: wholeNumber(data.suggestions_used.shown), edited: wholeNumber(data.suggestions_used.edited) })],
    [copy.insightsFigures.helpful, ...both(percentText, (d) => d.helpful_by_topic.rate),
      format(copy.insightsFigures.helpfulNote, { n: wholeNumber(data.helpful_by_topic.rated) })],
  ];
  return el('dl', { className: 'insights-figures' }, rows.map((row) => figure(...row)));
}

// ---- charts, each with its table -------------------------------------------------------------------------
function svg(tag, attributes, children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
  for (const child of children || []) node.appendChild(child);
  return node;
}

function svgText(tag, text, attributes) {
  const node = svg(tag, attributes);
  node.textContent = text;
  return node;
}

/** An SVG chart: an image whose name and description a screen reader gets (the table beside it has the numbers). */
function chartImage(id, title, description, width, height, parts) {
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d`,
    class: 'insights-chart', focusable: 'false' }, [
    svgText('title', title, { id: `${id}-t` }),
    svgText('desc', description, { id: `${id}-d` }),
    ...parts,
  ]);
}

function table(id, caption, headers, rows) {
  return el('div', { className: 'data-table insights-table', role: 'region', tabindex: '0', 'aria-labelledby': `${id}-c` }, [
    el('table', {}, [
      el('caption', { id: `${id}-c`, text: caption }),
      el('thead', {}, [el('tr', {}, headers.map((h) => el('th', { scope: 'col', text: h })))]),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((cell, i) =>
        (i === 0 ? el('th', { scope: 'row', text: cell }) : el('td', { text: cell })))))),
    ]),
  ]);
}

function section(id, title, chart, tableNode, note, stacked) {
  return el('section', { className: 'insights-section', 'aria-labelledby': `${id}-h` }, [
    el('h3', { id: `${id}-h`, text: title }),
    note ? el('p', { className: 'small', text: note }) : null,
    el('div', { className: stacked ? 'insights-pair insights-pair--stacked' : 'insights-pair' },
      [chart, tableNode].filter(Boolean)),
  ]);
}

/** A bin's bound as the axis says it: "30 s", "2 min". */
function boundText(seconds) {
  return seconds % 60 === 0 ? format(copy.insightsWaits.minutes, { n: seconds / 60 })
    : format(copy.insightsWaits.seconds, { n: seconds });
}

function dailySection(data) {
  const days = data.daily;
  const width = 960;
  const height = 220;
  const left = 40;
  const bottom = 24;
  const top = 12;
  const plotHeight = height - top - bottom;
  const most = Math.max(1, ...days.map((d) => d.conversations));
  const step = (width - left - 8) / Math.max(1, days.length);
  const bars = days.map((d, i) => {
    const h = (d.conversations / most) * plotHeight;
    return svg('rect', { x: left + i * step + step * 0.15, y: top + plotHeight - h, width: Math.max(1, step * 0.7),
      height: h, class: 'insights-bar' });
  });
  const points = days
    .map((d, i) => (d.containment_rate === null ? null :
      `${left + i * step + step / 2},${top + plotHeight - d.containment_rate * plotHeight}`))
    .filter(Boolean);
  const parts = [
    svg('line', { x1: left, y1: top + plotHeight, x2: width - 8, y2: top + plotHeight, class: 'insights-axis' }),
    svgText('text', wholeNumber(most), { x: left - 6, y: top + 10, 'text-anchor': 'end', class: 'insights-label' }),
    svgText('text', '0', { x: left - 6, y: top + plotHeight, 'text-anchor': 'end', class: 'insights-label' }),
    svgText('text', dayText(days[0].date), { x: left, y: height - 6, class: 'insights-label' }),
    svgText('text', dayText(days[days.length - 1].date), { x: width - 8, y: height - 6, 'text-anchor': 'end',
      class: 'insights-label' }),
    ...bars,
  ];
  if (points.length > 1) parts.push(svg('polyline', { points: points.join(' '), class: 'insights-line' }));
  else if (points.length === 1) {
    const [x, y] = points[0].split(',');
    parts.push(svg('circle', { cx: x, cy: y, r: 4, class: 'insights-dot' }));
  }
  const description = format(copy.insightsDaily.description, { from: dayText(data.from), to: dayText(data.to),
    conversations: wholeNumber(data.conversations), most: wholeNumber(most),
    containment: percentText(data.containment_rate) });
  const chart = el('figure', { className: 'insights-figure-chart' }, [
    chartImage('insights-daily', copy.insightsDaily.title, description, width, height, parts),
    el('figcaption', { className: 'insights-legend small' }, [
      el('span', { className: 'insights-key insights-key--bar', 'aria-hidden': 'true' }),
      copy.insightsDaily.legendBars, ' ',
      el('span', { className: 'insights-key insights-key--line', 'aria-hidden': 'true' }),
      copy.insightsDaily.legendLine,
    ]),
  ]);
  const rows = days.map((d) => [dayText(d.date), wholeNumber(d.conversations), wholeNumber(d.contained),
    wholeNumber(d.handed_off), wholeNumber(d.contact_requests), percentText(d.containment_rate)]);
  return section('insights-daily', copy.insightsDaily.title, chart,
    table('insights-daily-table', copy.insightsDaily.table, copy.insightsDailyColumns, rows), null, true);
}

function waitSection(data) {
  const bins = data.queue.distribution;
  const width = 640;
  const height = 200;
  const bottom = 28;
  const top = 16;
  const plotHeight = height - top - bottom;
  const most = Math.max(1, ...bins.map((b) => b.count));
  const step = width / bins.length;
  const label = (bin, i) => (bin.up_to_seconds === null
    ? format(copy.insightsWaits.over, { s: boundText(bins[i - 1].up_to_seconds) })
    : format(copy.insightsWaits.under, { s: boundText(bin.up_to_seconds) }));
  const parts = [];
  bins.forEach((bin, i) => {
    const h = (bin.count / most) * plotHeight;
    parts.push(svg('rect', { x: i * step + step * 0.15, y: top + plotHeight - h, width: step * 0.7, height: h,
      class: 'insights-bar' }));
    parts.push(svgText('text', wholeNumber(bin.count), { x: i * step + step / 2, y: top + plotHeight - h - 4,
      'text-anchor': 'middle', class: 'insights-label' }));
    parts.push(svgText('text', label(bin, i), { x: i * step + step / 2, y: height - 8, 'text-anchor': 'middle',
      class: 'insights-label' }));
  });
  const description = format(copy.insightsWaits.description, { claimed: wholeNumber(data.queue.claimed),
    median: secondsText(data.queue.wait_seconds.p50), p90: secondsText(data.queue.wait_seconds.p90),
    abandoned: wholeNumber(data.queue.abandoned) });
  const chart = data.queue.claimed
    ? chartImage('insights-waits', copy.insightsWaits.title, description, width, height, parts) : null;
  const rows = bins.map((bin, i) => [label(bin, i), wholeNumber(bin.count)]);
  const note = format(copy.insightsWaits.note, { claimed: wholeNumber(data.queue.claimed),
    abandoned: wholeNumber(data.queue.abandoned), ongoing: wholeNumber(data.queue.ongoing) });
  const tableNode = table('insights-waits-table', copy.insightsWaits.table, copy.insightsWaitsColumns, rows);
  return section('insights-waits', copy.insightsWaits.title, chart, tableNode, note);
}

function topicName(topic) {
  return topicTitles[topic] || str(topic);
}

/** FAQ topics by their titles (the editors' names for them, /api/editor/topics); read once, and left as
 * their keys ("faq/login") where the editor API does not answer (a chat replica: 503). */
const topicTitles = {};
let titlesAsked = false;
async function loadTopicTitles() {
  if (titlesAsked) return;
  titlesAsked = true;
  try {
    const data = await request('GET', '/api/editor/topics');
    for (const topic of (data && data.topics) || []) topicTitles[`faq/${topic.name}`] = str(topic.title);
  } catch (err) {
    titlesAsked = false; // asked again with the next period
  }
}

function topicsSection(data) {
  const items = data.topics.items;
  const shown = items.slice(0, TOP_TOPICS);
  const width = 640;
  const rowHeight = 24;
  const left = 200;
  const height = Math.max(1, shown.length) * rowHeight + 8;
  const most = Math.max(1, ...shown.map((item) => item.conversations));
  const parts = [];
  shown.forEach((item, i) => {
    const w = (item.conversations / most) * (width - left - 60);
    const y = 4 + i * rowHeight;
    parts.push(svgText('text', topicName(item.topic), { x: left - 8, y: y + 16, 'text-anchor': 'end',
      class: 'insights-label' }));
    parts.push(svg('rect', { x: left, y: y + 3, width: Math.max(1, w), height: rowHeight - 8, class: 'insights-bar' }));
    parts.push(svgText('text', wholeNumber(item.conversations), { x: left + w + 6, y: y + 16,
      class: 'insights-label' }));
  });
  const chart = shown.length
    ? chartImage('insights-topics', copy.insightsTopics.title, format(copy.insightsTopics.description,
      { first: topicName(shown[0].topic), n: wholeNumber(shown[0].conversations) }), width, height, parts)
    : null;
  const change = (n) => (n > 0 ? `+${wholeNumber(n)}` : n < 0 ? `−${wholeNumber(-n)}` : '0');
  const rows = items.map((item) => [topicName(item.topic), wholeNumber(item.conversations), percentText(item.share),
    wholeNumber(item.previous), change(item.change)]);
  const note = items.length ? format(copy.insightsTopics.note, { read: wholeNumber(data.topics.conversations_read),
    none: wholeNumber(data.topics.no_topic) }) : copy.insightsTopics.none;
  const tableNode = items.length
    ? table('insights-topics-table', copy.insightsTopics.table, copy.insightsTopicsColumns, rows) : null;
  return section('insights-topics', copy.insightsTopics.title, chart, tableNode, note);
}

/** Answers marked helpful by topic: a bar per topic, split into yes and no, with the table beside it. */
function helpfulSection(data) {
  const figuresOf = data.helpful_by_topic;
  const items = figuresOf.items;
  const label = (item) => topicName(item.topic);
  const shown = items.slice(0, TOP_TOPICS);
  const width = 640;
  const rowHeight = 24;
  const left = 200;
  const height = Math.max(1, shown.length) * rowHeight + 8;
  const most = Math.max(1, ...shown.map((item) => item.rated));
  const parts = [];
  shown.forEach((item, i) => {
    const scale = (width - left - 90) / most;
    const y = 4 + i * rowHeight;
    const yes = item.helpful * scale;
    const no = (item.rated - item.helpful) * scale;
    parts.push(svgText('text', label(item), { x: left - 8, y: y + 16, 'text-anchor': 'end', class: 'insights-label' }));
    if (yes) parts.push(svg('rect', { x: left, y: y + 3, width: yes, height: rowHeight - 8, class: 'insights-bar' }));
    if (no) parts.push(svg('rect', { x: left + yes, y: y + 3, width: no, height: rowHeight - 8,
      class: 'insights-bar insights-bar--no' }));
    parts.push(svgText('text', percentText(item.rate), { x: left + yes + no + 6, y: y + 16, class: 'insights-label' }));
  });
  const first = shown[0];
  const chart = shown.length
    ? el('figure', { className: 'insights-figure-chart' }, [
      chartImage('insights-helpful', copy.insightsHelpful.title, format(copy.insightsHelpful.description, {
        rated: wholeNumber(figuresOf.rated), helpful: wholeNumber(figuresOf.helpful), rate: percentText(figuresOf.rate),
        first: label(first), firstRate: percentText(first.rate) }), width, height, parts),
      el('figcaption', { className: 'insights-legend small' }, [
        el('span', { className: 'insights-key insights-key--bar', 'aria-hidden': 'true' }),
        copy.insightsHelpful.legendYes, ' ',
        el('span', { className: 'insights-key insights-key--no', 'aria-hidden': 'true' }),
        copy.insightsHelpful.legendNo,
      ]),
    ])
    : null;
  const rows = items.map((item) => [label(item), wholeNumber(item.rated), wholeNumber(item.helpful),
    wholeNumber(item.rated - item.helpful), percentText(item.rate)]);
  const tableNode = items.length
    ? table('insights-helpful-table', copy.insightsHelpful.table, copy.insightsHelpfulColumns, rows) : null;
  const note = items.length ? format(copy.insightsHelpful.note, { rated: wholeNumber(figuresOf.rated),
    helpful: wholeNumber(figuresOf.helpful) }) : copy.insightsHelpful.none;
  return section('insights-helpful', copy.insightsHelpful.title, chart, tableNode, note);
}

/** CSAT of the bot beside that of people: a bar each (the share satisfied), with the table beside it. */
function csatSection(data) {
  const parts = [];
  const groups = [[copy.insightsCsat.bot, data.csat.bot], [copy.insightsCsat.people, data.csat.people]];
  const width = 640;
  const left = 200;
  const rowHeight = 32;
  groups.forEach(([name, figure], i) => {
    const y = 4 + i * rowHeight;
    const w = (figure.rate || 0) * (width - left - 90);
    parts.push(svgText('text', name, { x: left - 8, y: y + 20, 'text-anchor': 'end', class: 'insights-label' }));
    parts.push(svg('rect', { x: left, y: y + 4, width: Math.max(1, w), height: rowHeight - 10, class: 'insights-bar' }));
    parts.push(svgText('text', percentText(figure.rate), { x: left + w + 6, y: y + 20, class: 'insights-label' }));
  });
  const rated = data.csat.bot.rated + data.csat.people.rated;
  const chart = rated
    ? chartImage('insights-csat', copy.insightsCsat.title, format(copy.insightsCsat.description, {
      bot: percentText(data.csat.bot.rate), people: percentText(data.csat.people.rate) }), width,
    groups.length * rowHeight + 8, parts)
    : null;
  const average = (n) => (n === null ? copy.insightsNoData
    : n.toLocaleString('fi-FI', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
  const rows = groups.map(([name, figure]) => [name, wholeNumber(figure.rated), wholeNumber(figure.satisfied),
    percentText(figure.rate), average(figure.average)]);
  const tableNode = table('insights-csat-table', copy.insightsCsat.table, copy.insightsCsatColumns, rows);
  return section('insights-csat', copy.insightsCsat.title, chart, tableNode, rated ? null : copy.insightsCsat.none);
}

function reasonsSection(data) {
  const rows = Object.entries(data.handoffs_by_reason).map(([reason, figure]) => [
    copy.insightsReasonNames[reason] || reason, wholeNumber(figure.count), percentText(figure.rate)]);
  const tableNode = rows.length
    ? table('insights-reasons-table', copy.insightsReasons.table, copy.insightsReasonsColumns, rows) : null;
  return section('insights-reasons', copy.insightsReasons.title, null, tableNode,
    rows.length ? null : copy.insightsReasons.none);
}

export function renderInsights(data) {
  built.body.textContent = '';
  built.body.append(
    el('section', { className: 'insights-section', 'aria-labelledby': 'insights-figures-h' }, [
      el('h3', { id: 'insights-figures-h', text: format(copy.insightsFiguresTitle, { from: dayText(data.from),
        to: dayText(data.to), prevFrom: dayText(data.previous.from), prevTo: dayText(data.previous.to) }) }),
      figures(data),
    ]),
    dailySection(data),
    waitSection(data),
    topicsSection(data),
    helpfulSection(data),
    csatSection(data),
    reasonsSection(data),
    el('p', { className: 'small', text: copy.insightsDefinitions }),
  );
}
