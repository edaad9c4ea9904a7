/**
 * Phone numbers as people type them, to E.164. Kyrgyz numbers come in every local shape
 * (0555 123 456, 0 (555) 12-34-56, 555123456, +996 555 123 456, 996555123456, 00996…);
 * numbers of other countries are taken only with their international prefix (+7 …, or 007 …,
 * since 00 is how an international number is dialled from Kyrgyzstan).
 *
 * libphonenumber-js's default ("min") metadata is enough: it accepts Kyrgyz mobile ranges
 * (0220, 0500s, 0700s, 0990s) and Bishkek's land lines (0312) and refuses what is not a number
 * in any range, without the weight of the "max" metadata.
 */
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";

/**
 * Only what people put in a phone number: digits, one leading +, spaces, dashes, dots,
 * brackets. Anything else (letters, "ext. 12", "tel:") is not a number to store, even where
 * libphonenumber would dig one out of it.
 */
const PHONE_CHARS = /^\+?[\d\s\-.()\u00a0]+$/;

/** E.164 of a number typed with Kyrgyzstan's (or `defaultCountry`'s) habits; undefined if none. */
export function normalizePhone(
  raw: string,
  defaultCountry: CountryCode = "KG",
): string | undefined {
  const typed = raw.trim();
  if (!PHONE_CHARS.test(typed)) return undefined;
  const digits = typed.replace(/\D/g, "");
  // Too short or too long for any number (E.164 has at most 15 digits; 00 adds two).
  if (digits.length < 6 || digits.length > 17) return undefined;
  const number = parsePhoneNumberFromString(typed, defaultCountry);
  if (!number?.isValid()) return undefined;
  // Without + or 00 only the default country's own numbers: "79123456789" is not taken for +7.
  const international = typed.startsWith("+") || digits.startsWith("00");
  if (!international && number.country !== defaultCountry) return undefined;
  return number.number;
}

/**
 * E.164 of a number Telegram hands over in a shared contact. Telegram writes it in
 * international form, with or without the "+" ("996555123456"), so it is read as such.
 */
export function normalizeContactPhone(raw: string): string | undefined {
  const typed = raw.trim();
  return normalizePhone(typed.startsWith("+") ? typed : `+${typed}`);
}

/**
 * A number to show back to its owner or to staff without writing it out: the country code and
 * the last three digits ("+996 *** *** 456"), enough to recognise one's own number.
 */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const digits = e164.replace(/\D/g, "");
  const last = digits.slice(-3);
  if (!parsed) return `+*** *** ${last}`;
  return `+${parsed.countryCallingCode} *** *** ${last}`;
}
