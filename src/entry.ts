// Bundle entry (CommonJS output: no top-level await here).
// First, on purpose: answers `--version` before main.js and everything it imports initialize.
import './fast-version.js';
import { main } from './main.js';

main();
