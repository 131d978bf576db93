// The widget's choice of status line (liveagent/static/widget/status.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isOutdated } from '../../liveagent/static/widget/status.js';

test('a line from an older conversation version than the one shown is outdated', () => {
  const assigned = { state: 'assigned', version: 5 };
  assert.equal(isOutdated(assigned, { state: 'waiting', position: 2, version: 4 }), true);
});

test('lines of the same or a newer version replace the one shown', () => {
  const waiting = { state: 'waiting', position: 2, version: 4 };
  assert.equal(isOutdated(waiting, { state: 'waiting', position: 1, version: 4 }), false);
  assert.equal(isOutdated(waiting, { state: 'assigned', version: 5 }), false);
});

test('lines without a version (a notice, a conversation not yet stored) and a first line are never outdated', () => {
  assert.equal(isOutdated({ state: 'assigned', version: 5 }, { text: 'Liian pitkä viesti.' }), false);
  assert.equal(isOutdated({ state: 'bot' }, { state: 'waiting', version: 1 }), false);
  assert.equal(isOutdated(null, { state: 'waiting', version: 1 }), false);
});
