// Bundle entry (CommonJS output: no top-level await here).
import { main } from './main.js';

main();
