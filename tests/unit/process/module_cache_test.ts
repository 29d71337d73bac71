/** untranspiled(): when the daemon's launcher loads the daemon's modules before its exec (read from Deno's cache). */
import { equal, throws } from "node:assert/strict";
import { noteTranspiled, untranspiled } from "../../../lib/process/module_cache.ts";

/** A source tree and a Deno cache in a temp dir; `env` points DENO_DIR at the cache. */
function setUp() {
  const root = Deno.makeTempDirSync({ prefix: "upkeep-module-cache-" });
  const src = `${root}/src dir`;
  const cache = `${root}/deno`;
  Deno.mkdirSync(src, { recursive: true });
  Deno.writeTextFileSync(`${src}/running.ts`, "");
  Deno.writeTextFileSync(`${src}/daemon.ts`, "");
  const gen = `${cache}/gen/file${src}`;
  const url = (name: string) => new URL(`file://${encodeURI(`${src}/${name}`)}`);
  const transpile = (name: string, at: Date) => {
    Deno.mkdirSync(gen, { recursive: true });
    Deno.writeTextFileSync(`${gen}/${name}.js`, "");
    Deno.utimeSync(`${gen}/${name}.js`, at, at);
  };
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  return { root, src, cache, url, transpile, env };
}

Deno.test("untranspiled(): read from Deno's cache, and only where it finds the running module", () => {
  const t = setUp();
  try {
    const later = new Date(Date.now() + 60_000);
    const earlier = new Date(Date.now() - 60_000);
    const ask = (vars: Record<string, string>) =>
      untranspiled(t.url("daemon.ts"), t.url("running.ts"), t.env(vars));
    const denoDir = { DENO_DIR: t.cache };

    // No cache, or not the layout looked for (the running module is not there): cannot tell.
    equal(ask(denoDir), false);
    equal(ask({}), false);
    t.transpile("running.ts", later);
    // The running module is there, the daemon's is not: a first start of these sources.
    equal(ask(denoDir), true);
    // The cache found through XDG_CACHE_HOME and HOME as well (Deno's order).
    Deno.mkdirSync(`${t.root}/xdg`);
    Deno.renameSync(t.cache, `${t.root}/xdg/deno`);
    equal(ask({ XDG_CACHE_HOME: `${t.root}/xdg` }), true);
    Deno.mkdirSync(`${t.root}/home/.cache`, { recursive: true });
    Deno.renameSync(`${t.root}/xdg/deno`, `${t.root}/home/.cache/deno`);
    equal(ask({ HOME: `${t.root}/home` }), true);
    Deno.renameSync(`${t.root}/home/.cache/deno`, t.cache);
    // Transpiled before the source last changed: again.
    t.transpile("daemon.ts", earlier);
    equal(ask(denoDir), true);
    // Deno found that copy current (the source was touched, not changed): noted, not again.
    noteTranspiled(t.url("daemon.ts"), t.env(denoDir));
    equal(ask(denoDir), false);
    // Transpiled since: nothing to do.
    t.transpile("daemon.ts", later);
    equal(ask(denoDir), false);
    // A source dated in the future (a skewed clock): noted as new as the source.
    const future = new Date(Date.now() + 3_600_000);
    Deno.utimeSync(`${t.src}/daemon.ts`, future, future);
    equal(ask(denoDir), true);
    noteTranspiled(t.url("daemon.ts"), t.env(denoDir));
    equal(ask(denoDir), false);
    // A copy that is a symbolic link is left alone (and so still untranspiled).
    const gen = `${t.cache}/gen/file${t.src}`;
    Deno.renameSync(`${gen}/daemon.ts.js`, `${t.root}/elsewhere.js`);
    Deno.utimeSync(`${t.root}/elsewhere.js`, earlier, earlier);
    Deno.symlinkSync(`${t.root}/elsewhere.js`, `${gen}/daemon.ts.js`);
    noteTranspiled(t.url("daemon.ts"), t.env(denoDir));
    equal(Deno.statSync(`${t.root}/elsewhere.js`).mtime?.getTime(), earlier.getTime());
    equal(ask(denoDir), true);
    // Noting a module Deno has no copy of, or a cache that is not there, creates nothing.
    noteTranspiled(t.url("running.ts"), t.env({ DENO_DIR: `${t.root}/nowhere` }));
    noteTranspiled(t.url("missing.ts"), t.env(denoDir));
    throws(() => Deno.lstatSync(`${t.root}/nowhere`), Deno.errors.NotFound);
    throws(() => Deno.lstatSync(`${gen}/missing.ts.js`), Deno.errors.NotFound);
    // Not files: nothing to say.
    equal(
      untranspiled(new URL("https://example.com/daemon.ts"), t.url("running.ts"), t.env(denoDir)),
      false,
    );
  } finally {
    Deno.removeSync(t.root, { recursive: true });
  }
});
