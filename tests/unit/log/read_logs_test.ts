/** Reading logs as `upkeep logs` does: file order, last lines, --since, compressed files. */

import { deepEqual, equal } from "node:assert/strict";
import { lastLines, listLogFiles, printSelection, tailLines } from "../../../lib/log/read_logs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "upkeep-read-logs-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function collect(
  dir: string,
  base: string,
  sel: { since: number | null; last: number | null },
): Promise<string[]> {
  const out: string[] = [];
  await printSelection(listLogFiles(dir, base), sel, (l) => {
    out.push(dec.decode(l));
    return Promise.resolve();
  });
  return out;
}

Deno.test("listLogFiles() gives the rotated files oldest first, the current one last", async () => {
  await withDir((dir) => {
    for (
      const n of ["web.log", "web.log.1", "web.log.2.gz", "web.log.10", "web-x.log", "web.logx"]
    ) {
      Deno.writeTextFileSync(`${dir}/${n}`, "");
    }
    deepEqual(listLogFiles(dir, "web.log").map((f) => f.path.slice(dir.length + 1)), [
      "web.log.10",
      "web.log.2.gz",
      "web.log.1",
      "web.log",
    ]);
  });
});

Deno.test("printSelection() reads every file, compressed ones too, in order", async () => {
  await withDir(async (dir) => {
    Deno.writeFileSync(`${dir}/a.log.2.gz`, await gzip("one\ntwo\n"));
    Deno.writeTextFileSync(`${dir}/a.log.1`, "three\n");
    Deno.writeTextFileSync(`${dir}/a.log`, "four\nfive");
    deepEqual(await collect(dir, "a.log", { since: null, last: null }), [
      "one",
      "two",
      "three",
      "four",
      "five",
    ]);
    deepEqual(await collect(dir, "a.log", { since: null, last: 4 }), [
      "two",
      "three",
      "four",
      "five",
    ]);
  });
});

Deno.test("tailLines() reads a big file backwards, with or without a last newline", async () => {
  await withDir(async (dir) => {
    const lines = Array.from({ length: 30000 }, (_, i) => `line ${i}`);
    Deno.writeTextFileSync(`${dir}/big.log`, lines.join("\n") + "\n");
    const f = { path: `${dir}/big.log`, gz: false, mtimeMs: 0 };
    deepEqual((await tailLines(f, 3)).map((l) => dec.decode(l)), [
      "line 29997",
      "line 29998",
      "line 29999",
    ]);
    equal((await tailLines(f, 20000)).length, 20000);
    equal(dec.decode((await tailLines(f, 20000))[0]!), "line 10000");
    Deno.writeTextFileSync(`${dir}/nonl.log`, "a\nb");
    deepEqual(
      (await tailLines({ path: `${dir}/nonl.log`, gz: false, mtimeMs: 0 }, 5)).map((l) =>
        dec.decode(l)
      ),
      ["a", "b"],
    );
    deepEqual(
      await lastLines([{ path: `${dir}/nonl.log`, gz: false, mtimeMs: 0 }], 0),
      [],
    );
  });
});

Deno.test("printSelection() with --since keeps stamped lines from then on", async () => {
  await withDir(async (dir) => {
    Deno.writeTextFileSync(
      `${dir}/t.log`,
      "2024-05-01T10:00:00.000Z early\n2024-05-01T12:00:00.000Z late\n" +
        "2024-05-01T13:00:00.000Z later\n",
    );
    const since = Date.UTC(2024, 4, 1, 11);
    deepEqual(await collect(dir, "t.log", { since, last: null }), [
      "2024-05-01T12:00:00.000Z late",
      "2024-05-01T13:00:00.000Z later",
    ]);
    deepEqual(await collect(dir, "t.log", { since, last: 1 }), ["2024-05-01T13:00:00.000Z later"]);
  });
});

Deno.test("printSelection() with --since skips files last written before it", async () => {
  await withDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/p.log.1`, "old\n");
    Deno.writeTextFileSync(`${dir}/p.log`, "new\n");
    Deno.utimeSync(`${dir}/p.log.1`, new Date(1000), new Date(1000));
    const out: string[] = [];
    const r = await printSelection(listLogFiles(dir, "p.log"), {
      since: 10_000,
      last: null,
    }, (l) => {
      out.push(dec.decode(l));
      return Promise.resolve();
    });
    deepEqual(out, ["new"]);
    equal(r.unstamped, true);
  });
});

Deno.test("lines are bytes: output that is not UTF-8 comes out as written", async () => {
  await withDir(async (dir) => {
    Deno.writeFileSync(`${dir}/b.log`, new Uint8Array([0xff, 0x41, 10, 0xfe, 10]));
    const out: number[][] = [];
    await printSelection(listLogFiles(dir, "b.log"), { since: null, last: null }, (l) => {
      out.push([...l]);
      return Promise.resolve();
    });
    deepEqual(out, [[0xff, 0x41], [0xfe]]);
    equal(enc.encode("x").length, 1);
  });
});
