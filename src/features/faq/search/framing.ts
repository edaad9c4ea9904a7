/**
 * What a question asks, apart from how it is framed. People write to the bot as to a person: a
 * greeting, who they are and where they live, what happened, and then the question. The story
 * is useful (it often names the subject), but its words are not what the question asks: a
 * village name, "I am a pensioner", "I went there last year" are found in no entry, and counted
 * like the question's own words they made every long question look foreign to the FAQ (on the
 * dev set, long questions with the right entry first were abstained on seven times in ten).
 *
 * So a question is split into sentences; when some of them ask (a question mark or a question
 * word) and others do not, the others are context: they still help to rank, with less weight,
 * and barely count when judging how much of the question an entry covers.
 */
import { foldWord, isStopToken } from "./lexicon";
import { tokenize } from "./normalize";
import { latinToCyrillicVariants } from "./translit";

export interface QuestionPart {
  text: string;
  /** Context: a sentence around the question (greeting, introduction, story). */
  context: boolean;
}

/** Words that make a sentence a question even without "?" (folded; Latin spellings included). */
// «что», «как», «надо» are left out: stories use them as much as questions («сказали, что…»).
const ASKING_SOURCE = `кто когда где куда откуда сколько какой какая какое какие каким какую каких
зачем почему можно ли обязан обязаны должен должны имеет имеют правда разве
ким кимге кимден кимди эмне эмнеге эмнени эмнеси эмнелер качан кайда кайдан канча кандай кайсы
кантип барбы болобу болобу керекпи мүмкүнбү алабы алышабы милдеттүүбү тийиш
kto kogda gde skolko kakoi kakaya mozhno pochemu zachem
kim kimge emne emnege kachan kaida kayda kancha kanday kandai kaisy kaysy kantip barby bolobu kerekpi`;

const ASKING: ReadonlySet<string> = new Set(
  ASKING_SOURCE.split(/\s+/).filter(Boolean).map(foldWord),
);

/**
 * Kyrgyz asks with a particle joined to the last word («болобу», «керекпи», «катыша алабы»):
 * a word of five letters or more ending in it makes the sentence a question.
 */
const KY_PARTICLE = /(бы|би|бу|бү|пы|пи|пу|пү|by|bi|bu|py|pi|pu)$/;

/** Whether a sentence asks: a question mark, a question word or a Kyrgyz question particle. */
export function asks(sentence: string): boolean {
  if (sentence.includes("?")) return true;
  for (const token of tokenize(sentence)) {
    const word = token.toLowerCase();
    // «Саламатсызбы» ends like a question and is a greeting.
    if (isStopToken(word, () => latinToCyrillicVariants(word))) continue;
    if (ASKING.has(foldWord(word))) return true;
    if (word.length >= 5 && KY_PARTICLE.test(word)) return true;
  }
  return false;
}

/**
 * Words that open a question although stories use them too («как подать жалобу», «что такое
 * курултай»): asking only when they come first.
 */
const OPENERS: ReadonlySet<string> = new Set(
  `как что чем надо нужно kak chto nado nuzhno`.split(/\s+/).map(foldWord),
);

/**
 * Whether a text typed where something else was expected (a place name, a button) is a
 * question: it asks (above), or it opens with a word that opens questions. A statement («я живу
 * в селе Беловодское») is not, however long.
 */
export function isQuestion(text: string): boolean {
  if (asks(text)) return true;
  const first = tokenize(text)[0];
  return first !== undefined && OPENERS.has(foldWord(first));
}

/** Splits a question into sentences marked as asking or context (see the module comment). */
export function questionParts(query: string): QuestionPart[] {
  const sentences = query
    .split(/(?<=[.!?…])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (sentences.length < 2) return [{ text: query, context: false }];
  const asking = sentences.map(asks);
  // Nothing asks, or everything does: no way (or no need) to tell the story from the question.
  if (asking.every((a) => a) || asking.every((a) => !a)) return [{ text: query, context: false }];
  return sentences.map((text, i) => ({ text, context: !asking[i] }));
}
