/** `upkeep run`: not written yet (placeholder so dispatch type-checks). */

export function runMain(_args: string[]): Promise<number> {
  console.error("upkeep: run is not implemented yet");
  return Promise.resolve(1);
}
