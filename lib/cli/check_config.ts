/** `upkeep check-config`: not written yet (placeholder so dispatch type-checks). */

export function checkConfigMain(_args: string[]): Promise<number> {
  console.error("upkeep: check-config is not implemented yet");
  return Promise.resolve(1);
}
