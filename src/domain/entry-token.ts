// A device's entry token is the secret path segment it posts to (/ingest/<family>/<token>). Inlet
// keeps only its SHA-256: a plain, unsalted hash is enough because the token is 128 random bits
// (newEntryToken), so neither a dictionary nor a precomputed table can find it, and a fast hash
// keeps the lookup of every upload cheap. A stolen database or backup then holds no working
// entry point; the token itself is shown once, when it is made.
//
// Uploads are matched by looking the hash up (an index, a map), never by comparing the presented
// token with a stored one, so there is no secret comparison whose timing could leak: timing could
// at best reveal a prefix of a hash, and a hash prefix does not lead back to a 128-bit token.
import { createHash } from 'node:crypto';

/** The stored form of an entry token: SHA-256 of its UTF-8 text, lower-case hex (64 characters). */
export function entryTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
