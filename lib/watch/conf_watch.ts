/**
 * The daemon's watch on its conf dirs: changes are coalesced into one reload, QUIET_MS after the
 * last of them, and at most MAX_DELAY_MS after the first (a steady stream of changes cannot hold
 * reloads off). Through inotify (./conf_watcher.ts) when FFI is there; otherwise (or when
 * inotify cannot be set up) through Deno.watchFs, which reacts to every write (a half-written
 * file may be read) and stops for good when a FIFO is made in a watched directory.
 */

import { InotifyConfWatcher } from "./conf_watcher.ts";

export const QUIET_MS = 50;
export const MAX_DELAY_MS = 1000;

export interface ConfWatch {
  /** Watch the conf dirs again from the top (an explicit reload). */
  resync(): void;
  close(): void;
}

/**
 * Watch `dirs`; `reload` gets the job files being written now (to leave out: their writers have
 * not finished them).
 */
export function watchConfDirs(
  dirs: readonly string[],
  log: (message: string) => void,
  reload: (unsettled: ReadonlySet<string>) => void,
): ConfWatch {
  let timer: number | undefined;
  let first: number | undefined;
  let inotify: InotifyConfWatcher | null = null;
  const fire = () => {
    // What happened up to now first (a writer that started meanwhile is left out).
    inotify?.drain();
    clearTimeout(timer);
    timer = first = undefined;
    reload(inotify?.unsettled() ?? new Set());
  };
  const changed = () => {
    const now = performance.now();
    first ??= now;
    clearTimeout(timer);
    const at = Math.min(now + QUIET_MS, first + MAX_DELAY_MS);
    timer = Number(setTimeout(fire, Math.max(0, at - now)));
  };
  try {
    inotify = InotifyConfWatcher.open(dirs, { changed, log });
  } catch (e) {
    log(`cannot watch the conf dirs through inotify (${e instanceof Error ? e.message : e})`);
  }
  if (inotify) {
    const w = inotify;
    return {
      resync: () => w.resync(),
      close: () => {
        w.close();
        clearTimeout(timer);
      },
    };
  }
  const fallback = watchWithDeno(dirs, log, changed);
  return {
    resync: () => {},
    close: () => {
      fallback();
      clearTimeout(timer);
    },
  };
}

/** Deno.watchFs on each dir: any event is a change. Returns what stops it. */
function watchWithDeno(
  dirs: readonly string[],
  log: (message: string) => void,
  changed: () => void,
): () => void {
  const watchers: Deno.FsWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = Deno.watchFs(dir, { recursive: true });
      watchers.push(w);
      (async () => {
        try {
          for await (const _ of w) changed();
        } catch { /* watcher closed */ }
      })();
    } catch (e) {
      log(`cannot watch ${dir}: ${e instanceof Error ? e.message : e}`);
    }
  }
  return () => {
    for (const w of watchers) {
      try {
        w.close();
      } catch { /* closed */ }
    }
  };
}
