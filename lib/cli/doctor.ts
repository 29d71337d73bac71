/** `upkeep doctor`: not written yet (placeholder so dispatch type-checks). */

export function doctorMain(_args: string[]): Promise<number> {
  console.error("upkeep: doctor is not implemented yet");
  return Promise.resolve(1);
}
