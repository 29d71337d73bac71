/**
 * The supervisor's records on disk, under STATE_DIR/state/: a snapshot (`snapshot.json`) and a
 * journal of changes since it (`journal`, one JSON line per changed record, numbered). A batch
 * of changes costs one append; when the journal has grown past twice the snapshot (at least
 * 256 KiB) the whole state is written as a new snapshot (to a temporary file, renamed over the
 * old one) and the journal starts again. Process starts and ends are journalled on their own
 * (a short line each, never held back: a start as soon as it is spawned, an end at the end of
 * the turn it happens in), so a record held back in a storm never hides a process. A crash at any instant leaves a readable state: the
 * rename is atomic, a torn last journal line is ignored (named in what could not be read, and cut
 * off so that the next line is not glued to it), and journal lines older than the
 * snapshot (a crash between the rename and the truncation) are skipped by their number. A
 * snapshot before a re-exec is fsynced.
 *
 * A full disk: the store keeps a file of RESERVE_BYTES (`reserve`) that it removes when a write
 * fails, so that the records that matter most (the processes just started, which a restarted
 * daemon must adopt rather than start twice) still reach the disk; it is made again after a
 * snapshot once there is room. When even that fails, the whole state is written as a snapshot at
 * the next change, and every RETRY_MS until it is (the records are all in memory: nothing said is
 * lost while the daemon lives, and nothing piles up).
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
  salvageEnv,
  salvageMain,
  SNAPSHOT_VERSION,
} from "./snapshot.ts";
import type { Env } from "./environment.ts";

/** The key of an instance's record. */
export function instanceKey(job: string, instance: string): string {
  return `${job}\u0000${instance}`;
}

export interface LoadedState {
  readonly daemon: DaemonRecord | null;
  readonly instances: InstanceRecord[];
  readonly classes: ClassRecord[];
  /** What could not be read or understood (left out, named in the log). */
  readonly unreadable: string[];
  /** Processes journalled for instances that have no record yet. */
  readonly lone: LoneProcess[];
}

/** A process of an instance that started (pid) or ended (pid null). */
export interface ProcessChange {
  readonly key: string;
  readonly kind: string;
  readonly pid: number | null;
  readonly start: number | null;
}

/** A batch of changes: records as JSON text, null for a record that is gone. */
export interface Changes {
  readonly instances?: Iterable<readonly [string, string | null]>;
  readonly classes?: Iterable<readonly [string, string | null]>;
  readonly daemon?: string;
  readonly processes?: Iterable<ProcessChange>;
}

/** A process recorded for an instance whose own record was not written yet. */
export interface LoneProcess {
  readonly job: string;
  readonly instance: string;
  readonly kind: string;
  readonly pid: number;
  readonly start: number | null;
  /** A main salvaged from a garbled record: the environment that record still holds. */
  readonly env?: Env;
}

interface ProcessLine {
  readonly k: string;
  readonly kind: string;
  readonly pid: number | null;
  readonly start: number | null;
}

const MIN_COMPACT_BYTES = 256 * 1024;
/** Room kept for the journal on a disk that fills up (see the top). */
export const RESERVE_BYTES = 1024 * 1024;
/** How often a state that could not be written is tried again (see the top). */
const RETRY_MS = 5_000;
const enc = new TextEncoder();

export class StateStore {
  readonly dir: string;
  readonly #instances = new Map<string, string>();
  readonly #classes = new Map<string, string>();
  #daemon: string | null = null;
  #seq = 0;
  #journal: Deno.FsFile | null = null;
  #journalBytes = 0;
  #snapshotBytes = 0;
  #failed: string | null = null;
  /** A write failed: the next is a whole snapshot (see the top). */
  #behind = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** A failed write may have left part of a line: the next write starts on a new line. */
  #torn = false;

  constructor(stateDir: string, private readonly log: (message: string) => void) {
    this.dir = `${stateDir}/state`;
    try {
      Deno.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      this.#fail(`cannot create ${this.dir}`, e);
    }
    this.#keepReserve();
  }

  /** Make the reserve file when it is not there (nothing when there is no room for it). */
  #keepReserve(): void {
    const path = `${this.dir}/reserve`;
    try {
      if (Deno.statSync(path).size >= RESERVE_BYTES) return;
    } catch { /* not there */ }
    try {
      const f = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 });
      try {
        const zeros = new Uint8Array(64 * 1024);
        for (let n = 0; n < RESERVE_BYTES;) n += f.writeSync(zeros);
      } finally {
        f.close();
      }
    } catch {
      try {
        Deno.removeSync(path); // a part of it would only take the room it is meant to keep
      } catch { /* none */ }
    }
  }

  /** Give the reserve's room back to the journal; false when there was none to give. */
  #useReserve(): boolean {
    try {
      Deno.removeSync(`${this.dir}/reserve`);
      return true;
    } catch {
      return false;
    }
  }

  /** Everything the last daemon left, checked; it also becomes this store's state. */
  load(): LoadedState {
    const unreadable: string[] = [];
    let snapSeq = 0;
    try {
      const snap = JSON.parse(Deno.readTextFileSync(`${this.dir}/snapshot.json`));
      if (snap?.v === SNAPSHOT_VERSION) {
        snapSeq = Number(snap.seq) || 0;
        if (snap.daemon) this.#daemon = JSON.stringify(snap.daemon);
        for (const [k, r] of Object.entries(snap.instances ?? {})) {
          this.#instances.set(k, JSON.stringify(r));
        }
        for (const [k, r] of Object.entries(snap.classes ?? {})) {
          this.#classes.set(k, JSON.stringify(r));
        }
        for (const [k, procs] of Object.entries(snap.lone ?? {})) {
          this.#lone.set(k, procs as Record<string, { pid: number; start: number | null }>);
        }
      } else unreadable.push(`${this.dir}/snapshot.json`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) unreadable.push(`${this.dir}/snapshot.json`);
    }
    this.#seq = snapSeq;
    let raw = new Uint8Array(0);
    const journalPath = `${this.dir}/journal`;
    try {
      raw = Deno.readFileSync(journalPath);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) unreadable.push(journalPath);
    }
    const lines = new TextDecoder().decode(raw).split("\n");
    for (const [i, line] of lines.entries()) {
      if (!line) continue;
      let e: { seq: number; t: string; k: string; r: unknown };
      try {
        e = JSON.parse(line);
      } catch {
        // A torn last line (a write cut short), or a garbled one: said, and left out.
        const torn = i === lines.length - 1;
        unreadable.push(
          `${journalPath} (line ${i + 1}, ${torn ? "torn" : "garbled"}: ${line.length} bytes)`,
        );
        if (torn) this.#cutTornLine(journalPath, raw.lastIndexOf(0x0a) + 1);
        continue;
      }
      // A whole line cut short of its newline only: the next write must not be glued to it.
      if (i === lines.length - 1) this.#torn = true;
      if (!(e.seq > snapSeq)) continue;
      this.#seq = Math.max(this.#seq, e.seq);
      if (e.t === "p") {
        this.#applyProcess(e as unknown as ProcessLine);
        continue;
      }
      const text = e.r === null || e.r === undefined ? null : JSON.stringify(e.r);
      if (e.t === "d") this.#daemon = text;
      else {
        const map = e.t === "i" ? this.#instances : this.#classes;
        if (e.t === "i") this.#procChanges.delete(e.k); // the text is whole
        if (text === null) map.delete(e.k);
        else map.set(e.k, text);
      }
    }
    this.#foldProcessChanges();
    const parse = (text: string): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    };
    const daemon = this.#daemon === null ? null : parse(this.#daemon);
    const instances: InstanceRecord[] = [];
    const salvagedEnv = new Map<string, Env>();
    for (const [k, text] of this.#instances) {
      const r = parse(text);
      if (isInstanceRecord(r)) instances.push(r);
      else {
        const [job, instance] = k.split("\u0000");
        unreadable.push(`instance ${job}${instance ? ` (${instance})` : ""}`);
        this.#forget(this.#instances, "i", k);
        // Its main process, when the record still says which and that it was to run: taken
        // over as a lone one (Supervisor.restore), not left running unsupervised.
        const main = salvageMain(r);
        if (main) {
          this.#lone.set(k, { ...this.#lone.get(k), main });
          const env = salvageEnv(r);
          if (env) salvagedEnv.set(k, env);
        }
      }
    }
    const classes: ClassRecord[] = [];
    for (const [k, text] of this.#classes) {
      const r = parse(text);
      if (isClassRecord(r)) classes.push(r);
      else {
        unreadable.push(`job ${k}`);
        this.#forget(this.#classes, "c", k);
      }
    }
    const lone: LoneProcess[] = [];
    for (const [k, procs] of this.#lone) {
      const [job, instance] = k.split("\u0000") as [string, string];
      const env = salvagedEnv.get(k);
      for (const [kind, p] of Object.entries(procs)) {
        lone.push({
          job,
          instance: instance ?? "",
          kind,
          pid: p.pid,
          start: p.start,
          ...(env && kind === "main" ? { env } : {}),
        });
      }
    }
    return {
      daemon: isDaemonRecord(daemon) ? daemon : null,
      instances,
      classes,
      unreadable,
      lone,
    };
  }

  /**
   * Cut the torn last line off the journal (it starts at byte `at`), else the next line appended
   * would be glued to it and lost with it. When that fails, the next write starts on a new line.
   */
  #cutTornLine(path: string, at: number): void {
    try {
      Deno.truncateSync(path, at);
    } catch {
      this.#torn = true;
    }
  }

  /**
   * A record that cannot be used, once named: gone from the state, and from the disk with the
   * next write (else every later start would name it again, until a snapshot).
   */
  #forget(map: Map<string, string>, t: "i" | "c", key: string): void {
    map.delete(key);
    this.#procChanges.delete(key);
    this.#forgotten.push([t, key]);
  }

  /** Records forgotten at load, to be journalled as gone by the next write. */
  #forgotten: ["i" | "c", string][] = [];

  /** Processes of instances without a record yet, by key (from the journal). */
  readonly #lone = new Map<string, Record<string, { pid: number; start: number | null }>>();

  /**
   * Process starts and ends since each instance's record text was last set, by key and kind
   * (null: ended). They are folded into the text only when a snapshot is written or the state is
   * loaded: a respawn then costs two small map updates instead of parsing and writing the whole
   * record (about 1.5 KB with its job definition) twice.
   */
  readonly #procChanges = new Map<
    string,
    Map<string, { pid: number; start: number | null } | null>
  >();

  /** A journalled process start or end, applied to the instance's record. */
  #applyProcess(e: ProcessLine): void {
    if (this.#instances.has(e.k)) {
      let changes = this.#procChanges.get(e.k);
      if (!changes) this.#procChanges.set(e.k, changes = new Map());
      changes.set(e.kind, e.pid === null ? null : { pid: e.pid, start: e.start });
      return;
    }
    const procs = this.#lone.get(e.k) ?? {};
    if (e.pid === null) delete procs[e.kind];
    else procs[e.kind] = { pid: e.pid, start: e.start };
    this.#lone.set(e.k, procs);
  }

  /** Fold the pending process changes into the records' text. */
  #foldProcessChanges(): void {
    for (const [k, changes] of this.#procChanges) {
      const text = this.#instances.get(k);
      if (text === undefined) continue;
      try {
        const rec = JSON.parse(text);
        for (const [kind, p] of changes) {
          if (p === null) delete rec.procs[kind];
          else rec.procs[kind] = p;
        }
        this.#instances.set(k, JSON.stringify(rec));
      } catch { /* an unreadable record stays as it is */ }
    }
    this.#procChanges.clear();
  }

  /** Apply and append a batch of changes (one write); `sync`: write a snapshot and fsync it. */
  record(changes: Changes, sync = false): void {
    let lines = "";
    const add = (t: string, k: string, text: string | null) => {
      lines += `{"seq":${++this.#seq},"t":"${t}","k":${JSON.stringify(k)},"r":${text ?? "null"}}\n`;
    };
    for (const [t, k] of this.#forgotten) add(t, k, null);
    this.#forgotten = [];
    for (const [k, text] of changes.instances ?? []) {
      this.#lone.delete(k);
      // A new text is whole: process changes before it are in it (later ones come below).
      const hadChanges = this.#procChanges.delete(k);
      const unchanged = text === null
        ? !this.#instances.delete(k)
        : this.#instances.get(k) === text;
      if (unchanged && !hadChanges) continue;
      if (text !== null) this.#instances.set(k, text);
      add("i", k, text);
    }
    for (const [k, text] of changes.classes ?? []) {
      if (text === null ? !this.#classes.delete(k) : this.#classes.get(k) === text) continue;
      if (text !== null) this.#classes.set(k, text);
      add("c", k, text);
    }
    for (const p of changes.processes ?? []) {
      lines += `{"seq":${++this.#seq},"t":"p","k":${JSON.stringify(p.key)},"kind":"${p.kind}",` +
        `"pid":${p.pid},"start":${p.start}}\n`;
      // Kept in the state too, so that a snapshot written before the record has it.
      this.#applyProcess({ k: p.key, kind: p.kind, pid: p.pid, start: p.start });
    }
    if (changes.daemon !== undefined && changes.daemon !== this.#daemon) {
      this.#daemon = changes.daemon;
      add("d", "", changes.daemon);
    }
    if (
      this.#behind || sync ||
      this.#journalBytes + lines.length > Math.max(MIN_COMPACT_BYTES, 2 * this.#snapshotBytes)
    ) {
      if (this.#snapshot(sync)) return; // it holds everything
      if (this.#behind) return; // tried again later
    }
    if (lines) this.#append(lines);
  }

  /** Behind the records in memory: a snapshot at the next change, and every RETRY_MS till then. */
  #fallBehind(): void {
    this.#behind = true;
    if (this.#retry !== undefined) return;
    const again = () => {
      this.#retry = undefined;
      if (this.#behind && !this.#snapshot(false)) this.#retry ??= later();
    };
    // Unref'd: a state dir that cannot be written never keeps a stopping daemon alive.
    const later = () => {
      const id = setTimeout(again, RETRY_MS);
      Deno.unrefTimer(id as unknown as number);
      return id;
    };
    this.#retry = later();
  }

  /** Append journal lines; on a failure, once more with the reserve's room, else fall behind. */
  #append(lines: string): void {
    const write = (): boolean => {
      let off = 0;
      try {
        this.#journal ??= Deno.openSync(`${this.dir}/journal`, {
          append: true,
          create: true,
          mode: 0o600,
        });
        const bytes = enc.encode(this.#torn ? `\n${lines}` : lines);
        while (off < bytes.length) off += this.#journal.writeSync(bytes.subarray(off));
        this.#journalBytes += bytes.length;
        this.#torn = false;
        this.#failed = null;
        return true;
      } catch (e) {
        if (off > 0) this.#torn = true;
        this.#closeJournal();
        this.#fail(`cannot write ${this.dir}/journal`, e);
        return false;
      }
    };
    if (write()) return;
    if (this.#useReserve()) {
      this.log(`${this.dir}: writing into the room kept in reserve; free space there`);
      if (write()) return;
    }
    this.#fallBehind();
  }

  /** The whole state as a new snapshot; the journal starts again. False when it failed. */
  #snapshot(sync: boolean): boolean {
    this.#foldProcessChanges();
    const obj = (m: Map<string, string>) =>
      `{${[...m].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
    const lone = JSON.stringify(Object.fromEntries(this.#lone));
    const text = `{"v":${SNAPSHOT_VERSION},"seq":${this.#seq},"daemon":${this.#daemon ?? "null"},` +
      `"instances":${obj(this.#instances)},"classes":${obj(this.#classes)},"lone":${lone}}`;
    const path = `${this.dir}/snapshot.json`;
    const tmp = `${path}.tmp`;
    try {
      const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
      try {
        const bytes = enc.encode(text);
        let off = 0;
        while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
        if (sync) f.syncSync();
      } finally {
        f.close();
      }
      Deno.renameSync(tmp, path);
      this.#snapshotBytes = text.length;
      // Lines numbered up to the snapshot's seq are skipped on load even if this is not reached.
      this.#closeJournal();
      Deno.writeFileSync(`${this.dir}/journal`, new Uint8Array(0), { mode: 0o600 });
      this.#journalBytes = 0;
      this.#torn = false;
      this.#failed = null;
      this.#behind = false;
      clearTimeout(this.#retry);
      this.#retry = undefined;
      this.#keepReserve();
      return true;
    } catch (e) {
      try {
        Deno.removeSync(tmp); // its part takes room the journal needs
      } catch { /* none */ }
      this.#fail(`cannot write ${path}`, e);
      this.#fallBehind();
      return false;
    }
  }

  #closeJournal(): void {
    try {
      this.#journal?.close();
    } catch { /* closed */ }
    this.#journal = null;
  }

  /** Forget every record (a fresh start); `all`: the daemon record too. */
  clear(all = false): void {
    this.#instances.clear();
    this.#procChanges.clear();
    this.#classes.clear();
    this.#lone.clear();
    if (all) this.#daemon = null;
    this.#snapshot(false);
  }

  /** Say a failing state dir once (until a write works again). */
  #fail(what: string, e: unknown): void {
    const text = `${what}: ${e instanceof Error ? e.message : e}`;
    if (this.#failed === text) return;
    this.#failed = text;
    this.log(`${text} (a restart of upkeep may then restart jobs instead of keeping them)`);
  }
}
