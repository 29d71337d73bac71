/**
 * Which init system a (root) file system boots with, decided from facts a probe reads: systemd
 * (`/run/systemd/system` is a dir, or `/sbin/init` links to systemd), OpenRC (`/sbin/openrc-run`
 * or `/run/openrc`), an inittab (`/etc/inittab`; BusyBox when `/sbin/init` links to busybox or the
 * file has BusyBox's empty-id lines), else cron. Pure: the probe is handed in (see `fsProbe`).
 */

import type { InittabFlavour } from "./artifacts.ts";

/** The boot mechanisms install can register with. */
export type InitKind = "systemd" | "openrc" | "inittab" | "cron";

/** The mechanism and, for inittab, the line format. */
export interface InitChoice {
  readonly kind: InitKind;
  readonly flavour?: InittabFlavour;
  /** Why: the fact that decided it, for the install's output. */
  readonly reason: string;
}

/** What detection reads, relative to the root being installed into. */
export interface InitProbe {
  isDir(path: string): boolean;
  exists(path: string): boolean;
  /** The target of a symlink, or null when not a symlink. */
  readLink(path: string): string | null;
  /** A file's text, or null when unreadable. */
  readText(path: string): string | null;
}

/** The `--init` values. `sysvinit` forces the sysvinit inittab format; `inittab` detects it. */
export const INIT_NAMES = ["auto", "systemd", "openrc", "sysvinit", "inittab", "cron"] as const;
export type InitName = typeof INIT_NAMES[number];

/** Decide the mechanism for `--init NAME` (`auto`: detect from the probe). */
export function chooseInit(name: InitName, probe: InitProbe): InitChoice {
  switch (name) {
    case "auto":
      return detectInit(probe);
    case "sysvinit":
      return { kind: "inittab", flavour: "sysvinit", reason: "--init sysvinit" };
    case "inittab":
      return { kind: "inittab", flavour: inittabFlavour(probe), reason: "--init inittab" };
    case "systemd":
    case "openrc":
    case "cron":
      return { kind: name, reason: `--init ${name}` };
  }
}

/** Detect the init system from the probe. */
export function detectInit(probe: InitProbe): InitChoice {
  const init = probe.readLink("/sbin/init") ?? "";
  if (probe.isDir("/run/systemd/system")) {
    return { kind: "systemd", reason: "/run/systemd/system exists" };
  }
  if (/systemd$/.test(init)) return { kind: "systemd", reason: `/sbin/init -> ${init}` };
  if (probe.exists("/sbin/openrc-run")) {
    return { kind: "openrc", reason: "/sbin/openrc-run exists" };
  }
  if (probe.exists("/run/openrc")) return { kind: "openrc", reason: "/run/openrc exists" };
  if (probe.exists("/etc/inittab")) {
    return { kind: "inittab", flavour: inittabFlavour(probe), reason: "/etc/inittab exists" };
  }
  return { kind: "cron", reason: "no systemd, OpenRC or /etc/inittab found" };
}

/** BusyBox when /sbin/init is busybox or the inittab has lines with an empty id; else sysvinit. */
export function inittabFlavour(probe: InitProbe): InittabFlavour {
  if (/busybox/.test(probe.readLink("/sbin/init") ?? "")) return "busybox";
  const text = probe.readText("/etc/inittab") ?? "";
  return text.split("\n").some((l) => l.startsWith(":")) ? "busybox" : "sysvinit";
}
