/*
 * The widget bundle's entry: `make widget` bundles this module and what it imports into one classic
 * script, dist/widget.js, so other sites embed the chat with one plain <script> tag.
 */
import { startWidget } from './chat.js';

if (!(window.LumoChat && window.LumoChat.version)) startWidget(); // loaded twice on a page: once is enough
