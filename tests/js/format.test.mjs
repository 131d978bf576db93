// Text formatting shared by the pages (liveagent/static/lib/format.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clockTime, dateTime, duration, format, plural, shortTime, wholeNumber } from '../../liveagent/static/lib/format.js';

test('format fills {name} placeholders and leaves unknown ones', () => {
  assert.equal(format('Arvio {n} / 5', { n: 3 }), 'Arvio 3 / 5');
  assert.equal(format('Pyyntö epäonnistui ({status}).', { status: 502 }), 'Pyyntö epäonnistui (502).');
  assert.equal(format('{x} ja {y}', { x: 1 }), '1 ja {y}');
});

test('plural picks the template by count', () => {
  assert.equal(plural(1, '1 uusi viesti', '{n} uutta viestiä'), '1 uusi viesti');
  assert.equal(plural(4, '1 uusi viesti', '{n} uutta viestiä'), '4 uutta viestiä');
});

test('whole numbers are grouped by thousands with a no-break space', () => {
  assert.equal(wholeNumber(999), '999');
  assert.equal(wholeNumber(1439), '1\u00a0439');
  assert.equal(wholeNumber(2000), '2\u00a0000');
  assert.equal(wholeNumber(1234567), '1\u00a0234\u00a0567');
});

test('durations as the console shows wait times', () => {
  assert.equal(duration(-5), '0 s');
  assert.equal(duration(45.9), '45 s');
  assert.equal(duration(185), '3 min 05 s');
  assert.equal(duration(2 * 3600 + 7 * 60), '2 h 07 min');
});

test('times: empty for missing or invalid input', () => {
  for (const fn of [clockTime, shortTime, dateTime]) {
    assert.equal(fn(null), '');
    assert.equal(fn('ei aika'), '');
  }
  const now = new Date().toISOString();
  assert.equal(shortTime(now), clockTime(now)); // today: the time only
  assert.match(dateTime('2025-03-04T12:05:00'), /^4\.3\.2025 klo 12[.:]05$/);
});
