// Loaded with `node --import` into a gateway under test: appends the name of every npm package the
// process loads (once each, main thread) to the file named by INLET_TEST_LOADED_PACKAGES, so that a
// test can tell which libraries a configuration pulls in (test/e2e/lazy-modules.test.ts).
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.INLET_TEST_LOADED_PACKAGES;
const seen = new Set<string>();
if (out) {
  registerHooks({
    load(url, context, nextLoad) {
      const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
      if (name && !seen.has(name)) {
        seen.add(name);
        appendFileSync(out, `${name}\n`);
      }
      return nextLoad(url, context);
    },
  });
}
