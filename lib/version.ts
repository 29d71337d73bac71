/** upkeep's version, and the git revision baked in at compile time (or read at run time from source). */

export const VERSION = "0.1.0";

/** Replaced by scripts/compile.ts in the compiled binary; "" when running from source. */
export const BUILD_REVISION = "";
