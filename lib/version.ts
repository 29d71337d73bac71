/**
 * upkeep's version, and the build facts baked in at compile time. scripts/compile.ts compiles a
 * copy of the source in which the two `BUILD_*` lines below are rewritten (see `bakeBuildInfo` in
 * lib/install/build_info.ts); the checkout itself is never modified.
 */

export const VERSION = "0.1.0";

/** The git revision, baked in by scripts/compile.ts; "" when running from source. */
export const BUILD_REVISION = "";

/** True in a binary built by scripts/compile.ts; false when running from source. */
export const BUILD_COMPILED = false;
