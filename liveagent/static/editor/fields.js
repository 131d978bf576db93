import { format } from '../lib/format.js';
import { $, MAX_ANSWER_CHARS, MAX_TITLE_CHARS, charCount, copy, setAlert } from './state.js';

// ---- field errors -------------------------------------------------------------------------------------
// Which control the API's `field` is about, per form. Each control has an error line <id>-error.
export const FIELDS = {
  answer: { answer: 'answer-text', title: 'answer-title' },
  examples: { examples: 'examples-new' },
  newTopic: {
    name: 'new-topic-name',
    title: 'new-topic-title',
    answer: 'new-topic-answer',
    examples: 'new-topic-examples',
  },
};

export function fieldError(controlId, message) {
  const control = $(controlId);
  const line = $(`${controlId}-error`);
  if (control) control.setAttribute('aria-invalid', 'true');
  if (line) line.textContent = message;
}

export function clearFieldError(controlId) {
  const control = $(controlId);
  const line = $(`${controlId}-error`);
  if (control) control.removeAttribute('aria-invalid');
  if (line) line.textContent = '';
}

export function clearFieldErrors(form) {
  for (const controlId of Object.values(FIELDS[form])) clearFieldError(controlId);
}

/** An API error: the message in the alert line and, when it names a field of this form, next to it. */
export function reportError(err, form) {
  setAlert(err.message);
  const controlId = err.field && FIELDS[form] ? FIELDS[form][err.field] : null;
  if (controlId && $(controlId)) {
    fieldError(controlId, err.message);
    $(controlId).focus();
    return true;
  }
  return false;
}

/** Client-side checks: [[controlId, message]] -> shown; the first control gets focus. */
export function showInvalid(problems) {
  if (!problems.length) return false;
  for (const [controlId, message] of problems) fieldError(controlId, message);
  setAlert(problems.length === 1 ? problems[0][1] : format(copy.formProblems, { n: problems.length }));
  $(problems[0][0]).focus();
  return true;
}

export function answerProblems(controlId, text) {
  const clean = text.trim();
  if (!clean) return [[controlId, copy.answerMissing]];
  const n = charCount(clean);
  if (n > MAX_ANSWER_CHARS) {
    return [[controlId, format(copy.answerTooLong, { n, max: MAX_ANSWER_CHARS })]];
  }
  return [];
}

export function titleProblems(controlId, title) {
  if (!title) return [[controlId, copy.titleMissing]];
  const n = charCount(title);
  if (n > MAX_TITLE_CHARS) {
    return [[controlId, format(copy.titleTooLong, { n, max: MAX_TITLE_CHARS })]];
  }
  return [];
}
