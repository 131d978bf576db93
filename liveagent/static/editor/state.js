import { el, str } from '../lib/dom.js';
import { dateTime, format } from '../lib/format.js';
import { sessionElements, sessionState } from '../lib/session.js';

export const EDITOR_API = '/api/editor';
export const MAX_ANSWER_CHARS = 700; // content.checks.MAX_ANSWER_CHARS
export const MAX_TITLE_CHARS = 60; // content.repository.MAX_TITLE_CHARS
export const MIN_EXAMPLES = 10; // content.checks.MIN_EXAMPLES
export const RECOMMENDED_EXAMPLES = 30; // content.checks.RECOMMENDED_EXAMPLES
export const NAME_PATTERN = /^[a-z][a-z0-9_]{1,39}$/; // content.repository.NAME
export const POLL_MS = 2000;
export const MISSED_TEXTS_SHOWN = 10;

// The editor's Finnish copy (copy/editor.fi.json; its `rephrase` is the bot's "did you mean" line that
// offers topics by their title, domain.yml: utter_ask_rephrase) and what the visitor widget shows
// (copy/widget.fi.json): both read once by main.js before the page starts.
export const copy = {};
export const widgetCopy = {};

export const $ = (id) => document.getElementById(id);
export const ui = Object.assign(sessionElements(), {
  main: $('main'),
  deniedMessage: $('denied-message'),
  editorView: $('editor-view'),
  status: $('editor-status'),
  alert: $('editor-alert'),
  nav: {
    topics: $('nav-topics'),
    missed: $('nav-missed'),
    changes: $('nav-changes'),
    publish: $('nav-publish'),
  },
  views: {
    topics: $('topics-view'),
    missed: $('missed-view'),
    changes: $('changes-view'),
    publish: $('publish-view'),
  },
  missedCount: $('missed-count'),
  publishRunningNote: $('publish-running-note'),
  // topics
  topicsCount: $('topics-count'),
  topicFilter: $('topic-filter'),
  topicsEmpty: $('topics-empty'),
  topicList: $('topic-list'),
  newTopicButton: $('new-topic-button'),
  placeholder: $('topic-placeholder'),
  detail: $('topic-detail'),
  topicHeading: $('topic-heading'),
  topicMeta: $('topic-meta'),
  topicComment: $('topic-comment'),
  conflict: $('topic-conflict'),
  conflictMessage: $('topic-conflict-message'),
  topicReload: $('topic-reload'),
  draft: $('topic-draft'),
  draftText: $('topic-draft-text'),
  answerForm: $('answer-form'),
  answerTitle: $('answer-title'),
  answerText: $('answer-text'),
  answerCount: $('answer-count'),
  answerSave: $('answer-save'),
  answerResult: $('answer-result'),
  answerPreview: $('answer-preview'),
  answerTitlePreview: $('answer-title-preview'),
  examplesTitle: $('examples-title'),
  examplesCount: $('examples-count'),
  examplesAdvice: $('examples-advice'),
  examplesList: $('examples-list'),
  examplesForm: $('examples-form'),
  examplesNew: $('examples-new'),
  examplesAdd: $('examples-add'),
  examplesResult: $('examples-result'),
  topicChanges: $('topic-changes'),
  topicChangesEmpty: $('topic-changes-empty'),
  // new topic
  newForm: $('new-topic-form'),
  newHeading: $('new-topic-heading'),
  newOrigin: $('new-topic-origin'),
  newName: $('new-topic-name'),
  newTitle: $('new-topic-title'),
  newAnswer: $('new-topic-answer'),
  newAnswerCount: $('new-topic-answer-count'),
  newExamples: $('new-topic-examples'),
  newExamplesCount: $('new-topic-examples-count'),
  newPreview: $('new-topic-preview'),
  newTitlePreview: $('new-topic-title-preview'),
  newSubmit: $('new-topic-submit'),
  newCancel: $('new-topic-cancel'),
  // missed
  missedTitle: $('missed-title'),
  missedRefresh: $('missed-refresh'),
  missedEmpty: $('missed-empty'),
  missedList: $('missed-list'),
  answeredEmpty: $('answered-empty'),
  answeredList: $('answered-list'),
  // changes
  changesRefresh: $('changes-refresh'),
  changesEmpty: $('changes-empty'),
  changesList: $('changes-list'),
  // publishing
  findingsSummary: $('findings-summary'),
  findingsList: $('findings-list'),
  findingsRefresh: $('findings-refresh'),
  publishButton: $('publish-button'),
  rollbackButton: $('rollback-button'),
  progressBox: $('publish-progress-box'),
  progressLabel: $('publish-progress-label'),
  progress: $('publish-progress'),
  percent: $('publish-percent'),
  publishDetail: $('publish-detail'),
  publishResult: $('publish-result'),
  runsEmpty: $('runs-empty'),
  runsList: $('runs-list'),
});

export const state = sessionState({
  view: 'topics',
  topics: [], // [{name, title, path, examples_count, answer}]
  current: null, // {topic, changes} of the open topic
  panel: 'empty', // 'empty' | 'topic' | 'new'
  newTopic: null, // {missedIds: [], nameTouched: bool} while the new-topic form is open
  missed: [],
  missedChoice: new Map(), // group key -> topic chosen in its select
  missedSort: 'frequent', // the inbox's order: 'frequent' (most often missed first) or 'newest' 
  answered: [],
  changes: [],
  agentNames: new Map(), // agent id -> display name
  findings: [],
  runs: [],
  canRollback: false,
  watchedRunId: null, // the run this page shows progress of
  shownRunId: null, // the finished run whose result is shown
  findingsRequest: 0, // only the latest findings request may change the checks panel
  pollTimer: null,
});

// ---- helpers --------------------------------------------------------------------------------
export function list(value) {
  return Array.isArray(value) ? value : [];
}

/** Characters as Python counts them (code points), so the counter agrees with the server. */
export function charCount(text) {
  return Array.from(text).length;
}

export function quoted(text) {
  return format(copy.quoted, { text });
}

/** Lower case without accents: "paivays" finds "päiväys". */
export function folded(text) {
  return str(text)
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

export function exampleKey(text) {
  return str(text).toLowerCase().split(/\s+/).filter(Boolean).join(' ');
}

export function lines(text) {
  return str(text)
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

export function timeElement(iso) {
  const text = dateTime(iso);
  return text ? el('time', { datetime: str(iso), text }) : null;
}

export let statusTimer = null;
export let alertTimer = null;

/** A general message in the role=status line (cleared first so a repeat is announced again). */
export function setStatus(text) {
  window.clearTimeout(statusTimer);
  ui.status.textContent = '';
  statusTimer = window.setTimeout(() => {
    ui.status.textContent = text;
  }, 50);
}

/** An error in the role=alert line. */
export function setAlert(text) {
  window.clearTimeout(alertTimer);
  ui.alert.textContent = '';
  if (!text) return;
  alertTimer = window.setTimeout(() => {
    ui.alert.textContent = text;
  }, 50);
}

export function clearAlert() {
  window.clearTimeout(alertTimer);
  ui.alert.textContent = '';
}

export function topicByName(name) {
  return state.topics.find((t) => t.name === name) || null;
}

export function topicLabel(name) {
  const topic = topicByName(name);
  return topic ? `${str(topic.title)} (${name})` : str(name);
}

export function agentName(change) {
  if (change.agent_name) return str(change.agent_name);
  const known = state.agentNames.get(change.agent_id);
  if (known) return known;
  if (state.me && change.agent_id === state.me.id) return str(state.me.display_name || state.me.username);
  return '';
}
