/**
 * libc through FFI, opened once and only when first needed: each module that calls libc names its
 * own symbols (`lazyLibc(SYMBOLS)`) and gets a function that opens it on the first call. Null
 * without glibc or without FFI permission (the caller falls back or says so). Imports nothing.
 *
 * Each symbol is bound on its first use, not all at the opening: Deno compiles a call trampoline
 * for every symbol it binds (0.2 to 0.7 ms each, measured), and of the ~80 symbols the daemon
 * names, about half are called at all in a start-up (a pipe, a memfd, a ptrace are for some jobs).
 */

/** The names glibc's libc goes by. */
const LIBC_NAMES = ["libc.so.6", "libc.so", "/lib/x86_64-linux-gnu/libc.so.6"];

/** A function that opens libc with `symbols` on its first call and returns them (or null). */
export function lazyLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): () => Deno.DynamicLibrary<S>["symbols"] | null {
  let opened: Deno.DynamicLibrary<S>["symbols"] | null | undefined;
  return () => {
    if (opened === undefined) {
      opened = null;
      for (const name of LIBC_NAMES) {
        try {
          Deno.dlopen(name, {}); // there, and FFI allowed: bind nothing yet
          opened = bindOnUse(name, symbols);
          break;
        } catch {
          // not this name, or no FFI permission
        }
      }
    }
    return opened;
  };
}

/**
 * Symbols bound so far, by library, name and signature: two modules that name the same function
 * the same way share one binding (and one trampoline).
 */
const bound = new Map<string, unknown>();

/**
 * An object with one property per symbol, each bound (its own `Deno.dlopen` of `library`, or the
 * binding another module made of it) the first time it is read, then kept. A symbol libc lacks
 * throws there, as dlopen would have.
 */
function bindOnUse<const S extends Deno.ForeignLibraryInterface>(
  library: string,
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] {
  const out = {} as Record<string, unknown>;
  for (const key of Object.keys(symbols)) {
    Object.defineProperty(out, key, {
      configurable: true,
      enumerable: true,
      get() {
        const id = `${library}\0${key}\0${JSON.stringify(symbols[key])}`;
        let fn = bound.get(id);
        if (fn === undefined) {
          const one = { [key]: symbols[key]! } as Deno.ForeignLibraryInterface;
          fn = Deno.dlopen(library, one).symbols[key];
          bound.set(id, fn);
        }
        Object.defineProperty(out, key, { value: fn, enumerable: true });
        return fn;
      },
    });
  }
  return out as Deno.DynamicLibrary<S>["symbols"];
}
