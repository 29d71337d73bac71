/**
 * libc through FFI, opened once and only when first needed: each module that calls libc names its
 * own symbols (`lazyLibc(SYMBOLS)`) and gets a function that opens it on the first call. Null
 * without glibc or without FFI permission (the caller falls back or says so). Imports nothing.
 */

/** A function that opens libc with `symbols` on its first call and returns them (or null). */
export function lazyLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): () => Deno.DynamicLibrary<S>["symbols"] | null {
  let opened: Deno.DynamicLibrary<S>["symbols"] | null | undefined;
  return () => {
    if (opened === undefined) {
      opened = null;
      for (const name of ["libc.so.6", "libc.so"]) {
        try {
          opened = Deno.dlopen(name, symbols).symbols;
          break;
        } catch {
          // not this name, or no FFI permission
        }
      }
    }
    return opened;
  };
}
