/**
 * Installing upkeep as a boot service: init detection, the artifacts (pure), the plan (pure), the
 * executor with its manifest, reading boot commands back, doctor's judgement, and the stop of jobs
 * left by a dead daemon.
 */

export * from "./apply.ts";
export * from "./artifacts.ts";
export * from "./boot_command.ts";
export * from "./build_info.ts";
export * from "./detect.ts";
export * from "./doctor_checks.ts";
export * from "./manifest.ts";
export * from "./paths.ts";
export * from "./plan.ts";
export * from "./shell_words.ts";
