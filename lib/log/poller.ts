/**
 * Waits for job output without waking the daemon when there is none: one epoll set holds every
 * log pipe (edge-triggered: one wake-up per write), and one nonblocking FFI call to epoll_wait
 * waits on a worker thread, for as long as it takes. When it returns, the handlers of the ready
 * pipes are called and the wait starts again. No timer, no polling: an idle daemon's log pipeline
 * costs one sleeping thread. An eventfd in the set ends the wait when the poller is closed. The
 * conf-dir watcher (lib/watch/) waits on its inotify fd through a Poller of its own.
 */

import {
  c,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLET,
  EPOLLIN,
  errno,
  errorText,
  O_CLOEXEC,
} from "./libc.ts";

/** struct epoll_event: packed (12 bytes) on x86_64, 16 bytes elsewhere. */
const EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;
const MAX_EVENTS = 64;
const WAKE_TOKEN = 0;

export class Poller {
  readonly #epfd: number;
  readonly #wakeFd: number;
  readonly #handlers = new Map<number, () => void>();
  readonly #tokens = new Map<number, number>();
  #nextToken = 1;
  #waiting = false;
  #closed = false;
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);

  /** `subject`: what is waited for, in error messages. */
  constructor(
    private readonly onError: (message: string) => void = () => {},
    private readonly subject = "job output",
  ) {
    this.#epfd = c().epoll_create1(O_CLOEXEC);
    if (this.#epfd < 0) throw new Error(`cannot create an epoll set: ${errorText(errno())}`);
    this.#wakeFd = c().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#wakeFd < 0) throw new Error(`cannot create an eventfd: ${errorText(errno())}`);
    this.#ctl(EPOLL_CTL_ADD, this.#wakeFd, WAKE_TOKEN, EPOLLIN);
  }

  #ctl(op: number, fd: number, token: number, events: number): boolean {
    const ev = new Uint8Array(EVENT_SIZE);
    const v = new DataView(ev.buffer);
    v.setUint32(0, events >>> 0, true);
    v.setBigUint64(DATA_OFFSET, BigInt(token), true);
    return c().epoll_ctl(this.#epfd, op, fd, ev) === 0;
  }

  /** Call `onReadable` whenever something is written to `fd` (edge-triggered). */
  add(fd: number, onReadable: () => void): void {
    const token = this.#nextToken++;
    if (!this.#ctl(EPOLL_CTL_ADD, fd, token, EPOLLIN | EPOLLET)) {
      throw new Error(`cannot watch fd ${fd}: ${errorText(errno())}`);
    }
    this.#handlers.set(token, onReadable);
    this.#tokens.set(fd, token);
    this.#wait();
  }

  /** Stop watching `fd` (before it is closed). */
  remove(fd: number): void {
    const token = this.#tokens.get(fd);
    if (token === undefined) return;
    this.#ctl(EPOLL_CTL_DEL, fd, token, 0);
    this.#tokens.delete(fd);
    this.#handlers.delete(token);
  }

  /** End the wait and stop. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const one = new BigUint64Array([1n]);
    c().write(this.#wakeFd, new Uint8Array(one.buffer), 8n);
    if (!this.#waiting) this.#release();
  }

  #release(): void {
    c().close(this.#wakeFd);
    c().close(this.#epfd);
  }

  #wait(): void {
    if (this.#waiting || this.#closed) return;
    this.#waiting = true;
    (async () => {
      const view = new DataView(this.#events.buffer);
      while (!this.#closed) {
        const n = await c().epoll_waitAsync(this.#epfd, this.#events, MAX_EVENTS, -1);
        if (n < 0) {
          // EINTR on the worker thread: wait again. Anything else would repeat at once: stop.
          if (this.#closed) break;
          const again = await c().epoll_waitAsync(this.#epfd, this.#events, MAX_EVENTS, 0);
          if (again < 0) {
            this.onError(`cannot wait for ${this.subject} (epoll_wait failed)`);
            break;
          }
          this.#dispatch(view, again);
          continue;
        }
        this.#dispatch(view, n);
      }
      this.#waiting = false;
      if (this.#closed) this.#release();
    })();
  }

  #dispatch(view: DataView, n: number): void {
    for (let i = 0; i < n; i++) {
      const token = Number(view.getBigUint64(i * EVENT_SIZE + DATA_OFFSET, true));
      if (token === WAKE_TOKEN) continue;
      const handler = this.#handlers.get(token);
      if (!handler) continue;
      try {
        handler();
      } catch (e) {
        this.onError(`${this.subject}: handler failed: ${e instanceof Error ? e.message : e}`);
      }
    }
  }
}
