import { createHash, randomInt } from 'node:crypto';

/**
 * Gift claim codes: `GIFT-XXXX-XXXX-XXXX-XXXX`, 16 symbols from 32 without look-alikes (no 0/O,
 * no I/L), 80 bits from the operating system's cryptographic source. Only the SHA-256 of the
 * canonical form is stored (see the gifts migration): the code itself lives in the link alone.
 */
export const GIFT_ALPHABET = '123456789ABCDEFGHJKMNPQRSTUVWXYZ';
const SYMBOLS = 16;
const GROUP = 4;

/** A new code (80 bits). */
export function mintGiftCode(): string {
  let symbols = '';
  for (let i = 0; i < SYMBOLS; i++) symbols += GIFT_ALPHABET[randomInt(GIFT_ALPHABET.length)];
  return format(symbols);
}

function format(symbols: string): string {
  const groups: string[] = [];
  for (let i = 0; i < symbols.length; i += GROUP) groups.push(symbols.slice(i, i + GROUP));
  return `GIFT-${groups.join('-')}`;
}

const CANONICAL = new RegExp(`^GIFT-([${GIFT_ALPHABET}]{${GROUP}}-){${SYMBOLS / GROUP - 1}}[${GIFT_ALPHABET}]{${GROUP}}$`);

/**
 * The code as typed or as a link carries it, in its one stored form: case, spaces and dashes do
 * not matter. Null when it cannot be a gift code (it is then looked up all the same, so an
 * unknown and a malformed code cost the same and get the same answer).
 */
export function canonicalGiftCode(input: string): string | null {
  const symbols = input.toUpperCase().replace(/[\s-]/g, '').replace(/^GIFT/, '');
  if (symbols.length !== SYMBOLS) return null;
  const code = format(symbols);
  return CANONICAL.test(code) ? code : null;
}

/** The stored form: SHA-256 of the canonical code (of the input as given, when it is not one). */
export function giftCodeHash(input: string): Buffer {
  return createHash('sha256').update(canonicalGiftCode(input) ?? input, 'utf8').digest();
}

/** The public claim page of a code. */
export function claimPath(code: string): string {
  return `/gift/claim/${encodeURIComponent(code)}`;
}
