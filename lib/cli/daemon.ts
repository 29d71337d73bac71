/** `upkeep daemon`: not written yet (placeholder so dispatch type-checks). */

export function daemonMain(_args: string[]): Promise<number> {
  console.error("upkeep: daemon is not implemented yet");
  return Promise.resolve(1);
}
