/**
 * The supervisor's records on disk, under STATE_DIR/state/: `daemon.json`, one file per instance
 * in `instances/` and per job class in `classes/`. Each is written to a temporary file and
 * renamed over the old one, so a crash at any instant leaves either the old or the new record,
 * never half of one; a final snapshot before a re-exec is also fsynced.
 *
 * When to write is the Recorder's business (lib/supervisor/recorder.ts); this is the file I/O.
 */

import {
  type ClassRecord,
  type DaemonRecord,
  type InstanceRecord,
  isClassRecord,
  isDaemonRecord,
  isInstanceRecord,
} from "./snapshot.ts";

/** A stable file name for a job (and instance) name: URI-encoded, hashed when too long. */
export function recordFileName(job: string, instance?: string): string {
  const raw = instance === undefined ? job : `${job}\u0000${instance}`;
  let name = encodeURIComponent(raw).replaceAll(".", "%2E");
  if (name.length > 180) name = `${name.slice(0, 100)}~${fnv1a(raw)}`;
  return `${name}.json`;
}

function fnv1a(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16);
}

export interface LoadedState {
  readonly daemon: DaemonRecord | null;
  readonly instances: InstanceRecord[];
  readonly classes: ClassRecord[];
  /** Files that could not be read or understood (left alone, named in the log). */
  readonly unreadable: string[];
}

export class StateStore {
  readonly dir: string;
  #failed: string | null = null;

  constructor(stateDir: string, private readonly log: (message: string) => void) {
    this.dir = `${stateDir}/state`;
    for (const sub of ["", "/instances", "/classes"]) {
      try {
        Deno.mkdirSync(`${this.dir}${sub}`, { recursive: true, mode: 0o700 });
      } catch (e) {
        this.#fail(`cannot create ${this.dir}${sub}`, e);
      }
    }
  }

  /** Everything the last daemon left, checked; nothing is removed. */
  load(): LoadedState {
    const unreadable: string[] = [];
    const read = (path: string): unknown => {
      try {
        return JSON.parse(Deno.readTextFileSync(path));
      } catch {
        unreadable.push(path);
        return null;
      }
    };
    const list = (sub: string): string[] => {
      try {
        return [...Deno.readDirSync(`${this.dir}/${sub}`)]
          .filter((e) => e.isFile && e.name.endsWith(".json"))
          .map((e) => `${this.dir}/${sub}/${e.name}`);
      } catch {
        return [];
      }
    };
    let daemon: DaemonRecord | null = null;
    try {
      Deno.statSync(`${this.dir}/daemon.json`);
      const d = read(`${this.dir}/daemon.json`);
      if (isDaemonRecord(d)) daemon = d;
      else if (d !== null) unreadable.push(`${this.dir}/daemon.json`);
    } catch { /* a first start */ }
    const instances: InstanceRecord[] = [];
    for (const path of list("instances")) {
      const r = read(path);
      if (isInstanceRecord(r)) instances.push(r);
      else if (r !== null) unreadable.push(path);
    }
    const classes: ClassRecord[] = [];
    for (const path of list("classes")) {
      const r = read(path);
      if (isClassRecord(r)) classes.push(r);
      else if (r !== null) unreadable.push(path);
    }
    return { daemon, instances, classes, unreadable };
  }

  /** Write (or, with null, remove) an instance's record now; `sync` fsyncs it. */
  putInstance(job: string, name: string, record: InstanceRecord | null, sync = false): void {
    this.#put(`instances/${recordFileName(job, name)}`, record, sync);
  }

  /** Write (or remove) a job class's record now. */
  putClass(job: string, record: ClassRecord | null, sync = false): void {
    this.#put(`classes/${recordFileName(job)}`, record, sync);
  }

  putDaemon(record: DaemonRecord, sync = false): void {
    this.#put("daemon.json", record, sync);
  }

  /** Forget every record (a daemon that starts afresh). */
  clear(): void {
    for (const sub of ["instances", "classes"]) {
      try {
        for (const e of Deno.readDirSync(`${this.dir}/${sub}`)) {
          Deno.removeSync(`${this.dir}/${sub}/${e.name}`);
        }
      } catch { /* nothing there */ }
    }
  }

  #put(rel: string, record: unknown, sync: boolean): void {
    const path = `${this.dir}/${rel}`;
    try {
      if (record === null) {
        Deno.removeSync(path);
        return;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) this.#fail(`cannot remove ${path}`, e);
      return;
    }
    const tmp = `${path}.tmp`;
    try {
      const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
      try {
        const bytes = new TextEncoder().encode(JSON.stringify(record));
        let off = 0;
        while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
        if (sync) f.syncSync();
      } finally {
        f.close();
      }
      Deno.renameSync(tmp, path);
      this.#failed = null;
    } catch (e) {
      this.#fail(`cannot write ${path}`, e);
    }
  }

  /** Say a failing state dir once (until a write works again). */
  #fail(what: string, e: unknown): void {
    const text = `${what}: ${e instanceof Error ? e.message : e}`;
    if (this.#failed === text) return;
    this.#failed = text;
    this.log(`${text} (a restart of upkeep may then restart jobs instead of keeping them)`);
  }
}
