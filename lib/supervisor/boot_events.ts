/**
 * The events a host booted by another init has already passed, emitted at daemon start so stock
 * Upstart job files start unchanged: startup, the filesystem events, net-device-up per interface
 * that is up, static-network-up, and runlevel.
 */

export function bootEvents(runlevel: string): [string, [string, string][]][] {
  const events: [string, [string, string][]][] = [
    ["startup", []],
    ["virtual-filesystems", []],
    ["local-filesystems", []],
    ["remote-filesystems", []],
    ["filesystem", []],
  ];
  for (const iface of upInterfaces()) {
    events.push([
      "net-device-up",
      [["IFACE", iface], ["LOGICAL", iface], ["ADDRFAM", "inet"], [
        "METHOD",
        iface === "lo" ? "loopback" : "static",
      ]],
    ]);
  }
  events.push(["static-network-up", []]);
  events.push(["runlevel", [["RUNLEVEL", runlevel], ["PREVLEVEL", "N"]]]);
  return events;
}

/** Names of the network interfaces that are up (lo first). */
function upInterfaces(): string[] {
  const names = new Set<string>();
  try {
    for (const entry of Deno.readDirSync("/sys/class/net")) {
      try {
        const flags = parseInt(Deno.readTextFileSync(`/sys/class/net/${entry.name}/flags`), 16);
        if (flags & 1) names.add(entry.name);
      } catch { /* vanished */ }
    }
  } catch {
    try {
      for (const i of Deno.networkInterfaces()) names.add(i.name);
    } catch { /* no network info */ }
  }
  return [...names].sort((a, b) => a === "lo" ? -1 : b === "lo" ? 1 : a < b ? -1 : 1);
}
