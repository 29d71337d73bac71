/**
 * An inotify(7) instance through FFI (`--allow-ffi`; the same under `deno run` and `deno compile`).
 * Nonblocking and close-on-exec; every call here returns at once (read gives 0 when nothing is
 * queued). inotify never opens the files it reports on, so a FIFO or a /proc file in a watched
 * directory cannot hold it up, as it holds up Deno.watchFs.
 */

import { errnoText } from "../process/ffi.ts";
import { lazyLibc } from "../process/libc_open.ts";

const SYMBOLS = {
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  inotify_rm_watch: { parameters: ["i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
const lib: () => Libc | null = lazyLibc(SYMBOLS);

const IN_NONBLOCK = 0o4000, IN_CLOEXEC = 0o2000000;
const EINTR = 4, EAGAIN = 11;
const enc = new TextEncoder();

export class Inotify {
  private constructor(private readonly c: Libc, readonly fd: number) {}

  /** A new instance; null without FFI; throws Error (the system's words) when the kernel refuses. */
  static open(): Inotify | null {
    const c = lib();
    if (!c) return null;
    const fd = c.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw new Error(`cannot start inotify: ${errnoText(errno(c))}`);
    return new Inotify(c, fd);
  }

  /** The watch descriptor, or the system's words for why not. */
  addWatch(path: string, mask: number): number | string {
    const b = enc.encode(path);
    const z = new Uint8Array(b.length + 1);
    z.set(b);
    const wd = this.c.inotify_add_watch(this.fd, z, mask >>> 0);
    return wd >= 0 ? wd : errnoText(errno(this.c));
  }

  removeWatch(wd: number): void {
    this.c.inotify_rm_watch(this.fd, wd);
  }

  /** Bytes read into `buf`: 0 when nothing is queued; the system's words on an error. */
  read(buf: Uint8Array<ArrayBuffer>): number | string {
    for (;;) {
      const n = Number(this.c.read(this.fd, buf, BigInt(buf.length)));
      if (n >= 0) return n;
      const e = errno(this.c);
      if (e === EINTR) continue;
      return e === EAGAIN ? 0 : errnoText(e);
    }
  }

  close(): void {
    this.c.close(this.fd);
  }
}

function errno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}
