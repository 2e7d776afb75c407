// Container and anonymous volume ids (64 hex digits, as Docker's) and generated names.
import { randomBytes } from "node:crypto";

export function newId(): string {
  return randomBytes(32).toString("hex");
}

const LEFT = ["brave", "calm", "eager", "fond", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud", "quiet", "sharp", "tender", "vivid", "witty", "zen"];
const RIGHT = ["babbage", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler", "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak"];

/** A name in Docker's adjective_scientist style; the caller retries on a clash. */
export function randomName(): string {
  const b = randomBytes(2);
  return `${LEFT[b[0]! % LEFT.length]}_${RIGHT[b[1]! % RIGHT.length]}`;
}

/** Docker's rule for container, volume and network names. */
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
