/**
 * Russian and Kyrgyz typed in Latin letters («mozhno li obrashatsya», «budjettin atkarylyshy»),
 * mapped into the folded Cyrillic search alphabet of ./fold. Several spellings are ambiguous
 * (j = ж in Kyrgyz but й in Russian, ts = ц or тс, c = ц or к), so a word yields a few
 * candidate spellings, most likely first; the index picks the one its vocabulary knows.
 */

type Rule = readonly [latin: string, options: readonly string[]];

// Longest patterns first; the output is already folded (й/ы → и, щ → ш, ё → е).
const RULES: readonly Rule[] = [
  ["shch", ["ш"]],
  ["sch", ["ш"]],
  ["sh", ["ш"]],
  ["zh", ["ж"]],
  ["kh", ["х"]],
  ["ch", ["ч"]],
  ["ts", ["ц", "тс"]],
  ["tz", ["ц"]],
  ["ck", ["к"]],
  ["ph", ["ф"]],
  ["yu", ["ю"]],
  ["yo", ["е"]],
  ["ya", ["я"]],
  ["ye", ["е"]],
  ["ju", ["ю", "жу"]],
  ["ja", ["я", "жа"]],
  ["jo", ["е", "жо"]],
  ["je", ["е", "же"]],
  ["iu", ["ю", "иу"]],
  ["ia", ["я", "иа"]],
  ["ng", ["н", "нг"]],
  ["a", ["а"]],
  ["b", ["б"]],
  ["c", ["ц", "к"]],
  ["d", ["д"]],
  ["e", ["е"]],
  ["f", ["ф"]],
  ["g", ["г"]],
  ["h", ["х"]],
  ["i", ["и"]],
  ["j", ["ж", "и"]],
  ["k", ["к"]],
  ["l", ["л"]],
  ["m", ["м"]],
  ["n", ["н"]],
  ["o", ["о"]],
  ["p", ["п"]],
  ["q", ["к"]],
  ["r", ["р"]],
  ["s", ["с"]],
  ["t", ["т"]],
  ["u", ["у"]],
  ["v", ["в"]],
  ["w", ["в"]],
  ["x", ["х", "кс"]],
  ["y", ["и"]],
  ["z", ["з"]],
  ["ö", ["о"]],
  ["ü", ["у"]],
  ["ñ", ["н"]],
  ["ğ", ["г"]],
  ["ı", ["и"]],
  ["ç", ["ч"]],
  ["ş", ["ш"]],
  ["é", ["е"]],
];

/**
 * Beginnings of loanwords whose Latin spelling loses a letter the rules cannot restore: «budjet»
 * is how «бюджет» is typed (the «ю» is heard as «u»), «online» is read as English.
 */
const LOANWORD_STARTS: readonly Rule[] = [
  ["budjet", ["бюджет"]],
  ["budzhet", ["бюджет"]],
  ["budget", ["бюджет"]],
  ["online", ["онлаин"]],
  ["onlain", ["онлаин"]],
];

const MAX_VARIANTS = 16;

/**
 * Candidate Cyrillic (folded) spellings of a Latin word, most likely first. Characters with no
 * rule (digits, other scripts) are kept as they are.
 */
export function latinToCyrillicVariants(word: string, lang?: "ru" | "ky"): string[] {
  const segments: (readonly string[])[] = [];
  let i = 0;
  const loanword = LOANWORD_STARTS.find(([latin]) => word.startsWith(latin));
  if (loanword) {
    segments.push(loanword[1]);
    i = loanword[0].length;
  }
  while (i < word.length) {
    const rule = RULES.find(([latin]) => word.startsWith(latin, i));
    if (rule) {
      let options = rule[1];
      // Before e/i/y a "c" is ц (ocenka); elsewhere it is usually к (konkurs typed «conkurs»).
      if (rule[0] === "c" && !/[eiy]/.test(word[i + 1] ?? "")) options = ["к", "ц"];
      // j is ж in Kyrgyz («jer», «jyiyn», «joop») but й in Russian («rajon», «jolka»).
      if (rule[0].startsWith("j") && lang !== undefined) {
        const zh = options.filter((o) => o.startsWith("ж"));
        const other = options.filter((o) => !o.startsWith("ж"));
        if (rule[0] === "j" && lang === "ru") other.splice(0, other.length, "и");
        options = lang === "ky" ? [...zh, ...other] : [...other, ...zh];
      }
      segments.push(options);
      i += rule[0].length;
    } else {
      segments.push([word[i]!]);
      i += 1;
    }
  }
  let variants = [""];
  for (const options of segments) {
    const next: string[] = [];
    for (const prefix of variants) {
      for (const [k, option] of options.entries()) {
        if (k > 0 && next.length + variants.length > MAX_VARIANTS) break;
        next.push(prefix + option);
      }
    }
    variants = next;
  }
  return [...new Set(variants)];
}

/** The most likely Cyrillic (folded) spelling of a Latin word. */
export function latinToCyrillic(word: string, lang?: "ru" | "ky"): string {
  return latinToCyrillicVariants(word, lang)[0]!;
}
