// The link sanitiser (liveagent/static/lib/links.js): only https URLs become links.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { linkParts } from '../../liveagent/static/lib/links.js';

const links = (text) => linkParts(text).filter((part) => part.href);

test('an https URL becomes a link; the text around it stays text', () => {
  assert.deepEqual(linkParts('Katso https://lumo.example/ohje tästä'), [
    { text: 'Katso ' },
    { text: 'https://lumo.example/ohje', href: 'https://lumo.example/ohje' },
    { text: ' tästä' },
  ]);
});

test('trailing punctuation is not part of the link', () => {
  assert.deepEqual(links('Osoite: https://lumo.example/a). Kiitos!'), [
    { text: 'https://lumo.example/a', href: 'https://lumo.example/a' },
  ]);
});

test('javascript:, data:, vbscript:, file: and plain http: never become links', () => {
  for (const text of [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(document.cookie)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'DATA:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'http://lumo.example/',
  ]) {
    assert.deepEqual(links(text), [], text);
    assert.equal(linkParts(text).map((p) => p.text).join(''), text);
  }
});

test('protocol-relative and scheme-less URLs stay text', () => {
  assert.deepEqual(links('//evil.example/x ja www.evil.example'), []);
});

test('an https URL inside another scheme links only to the https part', () => {
  for (const text of ['javascript:https://evil.example/', 'data:https://evil.example/']) {
    const found = links(text);
    assert.equal(found.length, 1);
    assert.equal(new URL(found[0].href).protocol, 'https:');
  }
});

test('entities and markup are text, never decoded into a scheme or a tag', () => {
  for (const text of ['&#106;avascript:alert(1)', 'java&#x09;script:alert(1)', '<a href="javascript:x">x</a>',
    'https&#58;//evil.example']) {
    assert.deepEqual(links(text), [], text);
  }
  // quotes and angle brackets end a URL, so no attribute can be smuggled into the link
  const [link] = links('https://lumo.example/"onmouseover="alert(1)');
  assert.equal(link.href, 'https://lumo.example/');
});

test('mixed-case https is a link whose href is normalised', () => {
  const [link] = links('HtTpS://Lumo.Example/Ohje');
  assert.equal(link.text, 'HtTpS://Lumo.Example/Ohje');
  assert.equal(link.href, 'https://lumo.example/Ohje');
});

test('an unparsable https URL stays text', () => {
  assert.deepEqual(links('https://[::1'), []);
});

test('several links, each found once', () => {
  assert.deepEqual(links('https://a.example ja https://b.example.').map((l) => l.href), [
    'https://a.example/',
    'https://b.example/',
  ]);
});
